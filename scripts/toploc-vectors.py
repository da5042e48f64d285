#!/usr/bin/env python3
"""Writes primitives/activations/vectors/toploc.json: activation commitments and checks
made by TOPLOC's reference implementation (PyPI `toploc==0.1.6`, Prime Intellect, MIT), which
the Rust crate `opg-activations` must reproduce byte for byte.

    pip install --no-deps toploc==0.1.6   # into the project's venv (it has torch)
    python scripts/toploc-vectors.py

Activations are bfloat16 (the reference commits to bf16 values only). Each case (and each
set of activations checked) is drawn until the k-th and (k+1)-th largest magnitudes of every
chunk differ: with a tie there, which
index is committed is the implementation's choice, not the encoding's.
"""
import json
import pathlib

import torch
import toploc

OUT = pathlib.Path(__file__).resolve().parent.parent / "primitives/activations/vectors/toploc.json"


def bits(tensor):
    return tensor.contiguous().view(torch.uint16).view(-1).tolist()


def untied(chunks, k):
    for chunk in chunks:
        top = chunk.view(-1).float().abs().sort(descending=True).values
        if len(top) > k and top[k - 1] == top[k]:
            return False
    return True


def draw(generator, shape, scale):
    return (torch.randn(shape, generator=generator) * scale).bfloat16()


def case(name, generator, prefill_rows, decode_rows, width, k, batching=32, scale=3.0):
    while True:
        prefill = draw(generator, (prefill_rows, width), scale)
        decode = [draw(generator, (1, width), scale) for _ in range(decode_rows)]
        activations = [prefill] + decode
        chunks = toploc.poly.batch_activations(activations, batching)
        if untied(chunks, k):
            break
    proofs = toploc.build_proofs_bytes(activations, batching, k)
    checks = []
    for label, make in [
        ("same", lambda: activations),
        ("noise 1%", lambda: [(a.float() * (1 + 0.01 * torch.randn(a.shape, generator=generator))).bfloat16() for a in activations]),
        ("noise 10%", lambda: [(a.float() * (1 + 0.1 * torch.randn(a.shape, generator=generator))).bfloat16() for a in activations]),
        ("other", lambda: [draw(generator, a.shape, scale) for a in activations]),
    ]:
        other = make()
        while not untied(toploc.poly.batch_activations(other, batching), k):
            other = make()
        results = toploc.verify_proofs_bytes(other, proofs, batching, k)
        checks.append({
            "label": label,
            "prefill": bits(other[0]),
            "decode": [bits(a) for a in other[1:]],
            "results": [
                {"exponentMismatches": r.exp_mismatches, "mantissaMean": r.mant_err_mean, "mantissaMedian": r.mant_err_median}
                for r in results
            ],
        })
    return {
        "name": name,
        "width": width,
        "k": k,
        "decodeBatching": batching,
        "prefill": bits(prefill),
        "prefillRows": prefill_rows,
        "decode": [bits(a) for a in decode],
        "commitments": [p.hex() for p in proofs],
        "checks": checks,
    }


def main():
    generator = torch.Generator().manual_seed(2026)
    cases = [
        case("prefill of 5 rows of width 576, k 128", generator, 5, 0, 576, 128),
        case("prefill of 3 rows and 70 decoded rows of width 64, k 128", generator, 3, 70, 64, 128),
        case("prefill of 2 rows and 9 decoded rows of width 16, k 8, batches of 4", generator, 2, 9, 16, 8, batching=4),
    ]
    # The interpolation alone, on points given by the reference's own tests' shape.
    points = []
    for xs, ys in [([1, 2, 3], [5, 6, 7]), ([0, 65000, 17, 40000], [16256, 49088, 1, 65496])]:
        poly = toploc.ProofPoly.from_points(xs, ys)
        points.append({"x": xs, "y": ys, "bytes": poly.to_bytes().hex()})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "source": "toploc 0.1.6 (PyPI), scripts/toploc-vectors.py",
        "interpolations": points,
        "cases": cases,
    }) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
