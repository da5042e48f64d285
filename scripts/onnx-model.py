#!/usr/bin/env python3
"""Exports a small convolutional network from PyTorch to ONNX, with inputs and PyTorch's
own outputs for them: the fixture of `opg-onnx` (`zk/onnx/tests/fixtures`) and a model to
try `opg-zk import-onnx` on.

Writes into --out: cnn.onnx (torch.onnx.export, opset 17), inputs.f32 (--samples inputs
of 1x12x12, float32 little-endian) and outputs.f32 (the model's outputs for them).
Needs `onnx` beside torch (scripts/setup installs both into the project's venv).
"""
import argparse
import pathlib

import torch


def network() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 8, kernel_size=3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 3 * 3, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 10),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(args.seed)
    model = network().eval()
    inputs = torch.rand(args.samples, 1, 12, 12)
    with torch.no_grad():
        outputs = model(inputs)
    torch.onnx.export(
        model,
        (inputs[:1],),
        str(args.out / "cnn.onnx"),
        input_names=["image"],
        output_names=["logits"],
        opset_version=17,
        dynamo=False,
    )
    inputs.numpy().astype("<f4").tofile(args.out / "inputs.f32")
    outputs.numpy().astype("<f4").tofile(args.out / "outputs.f32")
    print(f"wrote {args.out}/cnn.onnx, {args.samples} inputs and outputs")


if __name__ == "__main__":
    main()
