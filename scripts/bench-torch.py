#!/usr/bin/env python3
"""PyTorch's own speed on a TorchScript file, the baseline of `scripts/benchmark executor`.

Runs model.pt from DIR (written by scripts/torch-model.py) with torch.jit.load, in
inference mode, on CUDA when present, else CPU: one input at a time in a loop (as the
executor's bare model), then batches of 8 and 64. Prints one JSON object per measurement.
"""
import json
import pathlib
import sys
import time

import torch


def measure(name, run, seconds, per_call=1, **extra):
    for _ in range(100):
        run()
    latencies = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        call = time.perf_counter()
        run()
        latencies.append(time.perf_counter() - call)
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda p: latencies[round((len(latencies) - 1) * p)] * 1e3
    print(json.dumps({"bench": name, **extra, "per_second": round(len(latencies) * per_call / elapsed, 1),
                      "p50_ms": round(pick(0.5), 3), "p99_ms": round(pick(0.99), 3)}), flush=True)


def main():
    directory = pathlib.Path(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    config = json.loads((directory / "config.json").read_text())
    shape = config["schema"]["inputs"][0]["shape"]
    model = torch.jit.load(str(directory / "model.pt"), map_location=device).eval()
    print(json.dumps({"device": str(device), "threads": torch.get_num_threads(), "torch": torch.__version__}))
    with torch.inference_mode():
        x = torch.randn(*shape, device=device)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        measure("pytorch", lambda: (model(x), sync()), seconds, batch=1)
        for batch in (8, 64):
            xs = torch.randn(batch * shape[0], *shape[1:], device=device)
            measure("pytorch", lambda: (model(xs), sync()), seconds, per_call=batch, batch=batch)


if __name__ == "__main__":
    main()
