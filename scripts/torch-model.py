#!/usr/bin/env python3
"""Writes a small TorchScript MLP and PyTorch's own outputs for it, for the executor's
tests, benchmarks and the dev chain's demo.

Writes into --out: model.pt (torch.jit.script of the MLP), config.json (the executor's
configuration entry: hash and schema), input.bin (--batch inputs, float32 little-endian)
and expected.bin (PyTorch's outputs for them, each input run alone, float32).
Prints the model's SHA-256 and size.
"""
import argparse
import hashlib
import json
import pathlib

import torch


class Mlp(torch.nn.Module):
    def __init__(self, widths):
        super().__init__()
        layers = []
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
            layers.append(torch.nn.Linear(n_in, n_out))
            if i < len(widths) - 2:
                layers.append(torch.nn.ReLU())
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.layers(x), dim=-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--widths", default="16,32,4", help="layer widths, inputs first")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=8, help="how many reference inputs")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    widths = [int(w) for w in args.widths.split(",")]
    model = torch.jit.script(Mlp(widths).eval())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "model.pt"
    model.save(str(path))

    # Reference outputs from the saved file, as the executor will load it.
    loaded = torch.jit.load(str(path)).eval()
    inputs = torch.randn(args.batch, 1, widths[0])
    with torch.no_grad():
        expected = torch.stack([loaded(x) for x in inputs])
    (args.out / "input.bin").write_bytes(bytes(inputs.contiguous().untyped_storage()))
    (args.out / "expected.bin").write_bytes(bytes(expected.contiguous().untyped_storage()))

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    config = {
        "hash": "0x" + digest,
        "schema": {
            "inputs": [{"shape": [1, widths[0]], "dtype": "f32"}],
            "outputs": [{"shape": [1, widths[-1]], "dtype": "f32"}],
        },
        "max_batch": 64,
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(f"hash: 0x{digest}")
    print(f"size: {len(data)}")


if __name__ == "__main__":
    main()
