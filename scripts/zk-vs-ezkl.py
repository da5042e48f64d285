#!/usr/bin/env python3
"""OPG's ZKML prover beside EZKL on the same ONNX models, in one invocation.

Run by `./scripts/benchmark zk --vs-ezkl`, which installs EZKL from PyPI into a virtual
environment of its own and builds `opg-zk`; this script needs the project's venv (torch,
numpy, onnx) to build the models.

For each model (two MLPs and two CNNs, built here from PyTorch with fixed seeds, or the
`zk/onnx` fixture), both systems import the same ONNX file and calibrate on the same
inputs, then every timed step runs as its own process (so reading keys and models counts),
`--reps` times; the table gives medians and the largest peak resident memory
(GNU time's maximum resident set size) of each step:

- OPG, twice: `opg-zk import-onnx --bits 8` (8 bits throughout) and its default
  `--bits 16` (16-bit activations and output over an 8-bit input, 12-bit weights), each
  `opg-zk import-onnx` (calibrated), `opg-zk setup` (Groth16 keys for this model),
  `opg-zk prove` (evaluates, commits to the input with Poseidon, proves), `opg-zk
  verify`;
- EZKL: `gen_settings` + `calibrate_settings` (target "resources"), `compile_circuit`,
  `gen_srs` (a local development SRS: nothing is downloaded), `setup`, `gen_witness`,
  `prove`, `verify`; the input is "hashed" (Poseidon, in the circuit), the output public,
  the parameters fixed.

Accuracy: both integer models run on the same held-out inputs (`opg-zk eval`; EZKL's
witness outputs rescaled by its output scale), against PyTorch's float outputs:
relative error = ||y - y_float|| / ||y_float|| over all outputs of all inputs, and how
many inputs keep PyTorch's largest output (argmax).

Writes the results as JSON (--json) and, with --docs, replaces the section between
`<!-- zk-vs-ezkl:begin -->` and `<!-- zk-vs-ezkl:end -->` of docs/benchmarks.md;
`--render JSON --docs FILE` rewrites the tables of an earlier run without measuring.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "zk" / "onnx" / "tests" / "fixtures"
BEGIN, END = "<!-- zk-vs-ezkl:begin -->", "<!-- zk-vs-ezkl:end -->"

# (name, description, builder of (module, input shape) or None for the fixture)
MODELS = [
    ("mlp-784-56-10", "MLP 784-56-10", lambda: (mlp(56), (1, 784))),
    ("mlp-784-64-10", "MLP 784-64-10", lambda: (mlp(64), (1, 784))),
    ("cnn-12", "CNN 1×12×12 (the `zk/onnx` fixture)", None),
    ("cnn-28", "CNN 1×28×28: conv 3×3 ×4, avg pool 2, conv 3×3 ×8, avg pool 2, dense 10",
     lambda: (cnn28(), (1, 1, 28, 28))),
]


def mlp(hidden: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))


def cnn28() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, kernel_size=3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 8, kernel_size=3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 7 * 7, 10),
    )


def build(name, builder, folder: pathlib.Path, calibration: int, held_out: int):
    """Writes folder/model.onnx and returns (calibration inputs, held-out inputs, their
    float outputs) as float32 arrays of shape (n, input values)."""
    folder.mkdir(parents=True, exist_ok=True)
    if builder is None:
        shutil.copy(FIXTURE / "cnn.onnx", folder / "model.onnx")
        inputs = np.fromfile(FIXTURE / "inputs.f32", dtype="<f4").reshape(-1, 144)
        session = onnx_reference(folder / "model.onnx")
        expected = np.fromfile(FIXTURE / "outputs.f32", dtype="<f4").reshape(-1, 10)
        rebuilt = np.stack([session(x.reshape(1, 1, 12, 12)) for x in inputs])
        assert np.allclose(rebuilt, expected, atol=1e-5), "the fixture's network differs"
        torch.manual_seed(1)
        held = torch.rand(held_out, 144).numpy()
        return inputs, held, np.stack([session(x.reshape(1, 1, 12, 12)) for x in held])
    torch.manual_seed(sum(name.encode()))
    module, shape = builder()
    module = module.eval()
    values = int(np.prod(shape))
    samples = torch.rand(calibration + held_out, *shape[1:])
    with torch.no_grad():
        outputs = module(samples).numpy()
    torch.onnx.export(module, (samples[:1],), str(folder / "model.onnx"),
                      input_names=["input"], output_names=["output"], opset_version=17,
                      dynamo=False)
    flat = samples.reshape(len(samples), values).numpy()
    return flat[:calibration], flat[calibration:], outputs[calibration:]


def onnx_reference(path):
    """The fixture's float model as PyTorch's own module (scripts/onnx-model.py's network
    with the fixture's seed), so its outputs are PyTorch's."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("onnx_model", ROOT / "scripts" / "onnx-model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    network = module.network().eval()

    def run(x):
        with torch.no_grad():
            return network(torch.from_numpy(np.ascontiguousarray(x))).numpy()[0]
    return run


def timed(command):
    """Runs one process under /usr/bin/time: (seconds, its peak resident memory in MB,
    stdout). (wait4 on a child of this Python would count the pages it shared with
    this process before exec: torch's.)"""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as usage:
        start = time.perf_counter()
        status = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", usage.name]
                                 + [str(c) for c in command], stdout=out, stderr=err)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if status != 0:
            sys.exit(f"failed ({status}): {' '.join(map(str, command))[:300]}\n"
                     f"{err.read().decode()[-3000:]}")
        peak_kb = int(usage.read().split()[-1])
        return seconds, peak_kb / 1024, out.read().decode()


class Steps:
    """Timings of named steps over repetitions."""

    def __init__(self):
        self.times, self.peaks = {}, {}

    def add(self, step, seconds, peak):
        self.times.setdefault(step, []).append(seconds)
        self.peaks[step] = max(self.peaks.get(step, 0.0), peak)

    def median(self, step):
        return statistics.median(self.times[step])

    def summary(self):
        return {step: {"median_s": self.median(step), "runs_s": self.times[step],
                       "peak_mb": self.peaks[step]} for step in self.times}


def quantize(inputs, scale, bits):
    """Float inputs as the integer model's input values, little-endian."""
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.round(inputs / scale), low, high).astype("<i1" if bits == 8 else "<i2")


def opg(zk, folder, calibration, held, reps, bits):
    steps = Steps()
    onnx = folder / "model.onnx"
    folder = folder / f"opg-int{bits}"
    folder.mkdir(parents=True, exist_ok=True)
    calibration.astype("<f4").tofile(folder / "calibration.f32")
    seconds, peak, out = timed([zk, "import-onnx", onnx, "--out", folder / "model.qmodel.json",
                                "--calibration", folder / "calibration.f32", "--bits", bits])
    steps.add("import", seconds, peak)
    imported = json.loads(out)
    model = folder / "model.qmodel.json"
    keys = folder / "keys"
    for _ in range(reps):
        steps.add("setup", *timed([zk, "setup", model, "--out", keys])[:2])
    inputs = quantize(held, imported["input_scale"], imported["input_bits"])
    first = "0x" + inputs[0].tobytes().hex()
    proof = folder / "proof.json"
    for _ in range(reps):
        steps.add("prove", *timed([zk, "prove", model, "--proving-key", keys / "proving.key",
                                   "--input", first, "--genesis", "0x" + "11" * 32,
                                   "--request", "7", "--node", "0x" + "22" * 32,
                                   "--out", proof])[:2])
    for _ in range(reps):
        seconds, peak, out = timed([zk, "verify", "--verifying-key", keys / "verifying.key",
                                    proof])
        assert out.strip() == "valid", out
        steps.add("verify", seconds, peak)
    _, _, out = timed([zk, "eval", model] + [
        arg for x in inputs for arg in ("--input", "0x" + x.tobytes().hex())])
    dtype = "<i1" if bits == 8 else "<i2"
    outputs = np.stack([np.frombuffer(bytes.fromhex(o[2:]), dtype=dtype)
                        for o in json.loads(out)["outputs"]]).astype(np.float64)
    _, _, out = timed([zk, "compile", model])
    compiled = json.loads(out)
    document = json.loads(proof.read_text())
    return {
        "steps": steps.summary(),
        "outputs": (outputs * imported["output_scale"]).tolist(),
        "constraints": compiled["constraints"],
        "proving_key_bytes": (keys / "proving.key").stat().st_size,
        "verifying_key_bytes": (keys / "verifying.key").stat().st_size,
        "proof_bytes": len(bytes.fromhex(document["proof"][2:])),
    }


EZKL_STEP = {
    "settings": """
import ezkl, json
args = ezkl.PyRunArgs()
args.input_visibility = "hashed"
args.output_visibility = "public"
args.param_visibility = "fixed"
assert ezkl.gen_settings("{d}/model.onnx", "{d}/settings.json", py_run_args=args)
r = ezkl.calibrate_settings("{d}/calibration.json", "{d}/model.onnx", "{d}/settings.json",
                            "resources")
""",
    "compile": 'import ezkl\nassert ezkl.compile_circuit("{d}/model.onnx", "{d}/model.compiled", "{d}/settings.json")',
    "srs": """
import ezkl, json
logrows = json.load(open("{d}/settings.json"))["run_args"]["logrows"]
assert ezkl.gen_srs("{d}/kzg.srs", logrows) in (None, True)
""",
    "setup": 'import ezkl\nassert ezkl.setup("{d}/model.compiled", "{d}/vk.key", "{d}/pk.key", "{d}/kzg.srs")',
    "witness": """
import asyncio, ezkl, inspect
r = ezkl.gen_witness("{d}/input.json", "{d}/model.compiled", "{d}/witness.json", "{d}/vk.key", "{d}/kzg.srs")
if inspect.isawaitable(r): asyncio.run(r)
""",
    "prove": 'import ezkl\nassert ezkl.prove("{d}/witness.json", "{d}/model.compiled", "{d}/pk.key", "{d}/proof.json", "{d}/kzg.srs")',
    "verify": 'import ezkl\nassert ezkl.verify("{d}/proof.json", "{d}/settings.json", "{d}/vk.key", "{d}/kzg.srs")',
}

EZKL_OUTPUTS = """
import asyncio, ezkl, inspect, json, sys
d = sys.argv[1]
scales = json.load(open(d + "/settings.json"))["model_output_scales"]
rows = []
for i, x in enumerate(json.load(open(d + "/held.json"))):
    json.dump({"input_data": [x]}, open(d + "/held-input.json", "w"))
    r = ezkl.gen_witness(d + "/held-input.json", d + "/model.compiled", d + "/held-witness.json",
                         d + "/vk.key", d + "/kzg.srs")
    if inspect.isawaitable(r): asyncio.run(r)
    w = json.load(open(d + "/held-witness.json"))
    rows.append([ezkl.felt_to_float(f, scales[0]) for f in w["outputs"][0]])
print(json.dumps(rows))
"""


def ezkl(python, folder, calibration, held, reps):
    steps = Steps()
    d = str(folder / "ezkl")
    os.makedirs(d, exist_ok=True)
    shutil.copy(folder / "model.onnx", f"{d}/model.onnx")
    json.dump({"input_data": [calibration.reshape(-1).tolist()]}, open(f"{d}/calibration.json", "w"))
    json.dump({"input_data": [held[0].tolist()]}, open(f"{d}/input.json", "w"))
    json.dump(held.tolist(), open(f"{d}/held.json", "w"))

    def step(name, repeat=1):
        for _ in range(repeat):
            steps.add(name, *timed([python, "-c", EZKL_STEP[name].format(d=d)])[:2])
    step("settings")
    step("compile")
    step("srs")
    step("setup", reps)
    step("witness", reps)
    step("prove", reps)
    step("verify", reps)
    _, _, out = timed([python, "-c", EZKL_OUTPUTS, d])
    settings = json.load(open(f"{d}/settings.json"))
    proof = json.load(open(f"{d}/proof.json"))
    raw = proof.get("proof")
    proof_bytes = len(raw) if isinstance(raw, list) else len(bytes.fromhex(raw.removeprefix("0x")))
    return {
        "steps": steps.summary(),
        "outputs": json.loads(out),
        "logrows": settings["run_args"]["logrows"],
        "scales": [settings["run_args"].get("input_scale"), settings["run_args"].get("param_scale")],
        "proving_key_bytes": os.path.getsize(f"{d}/pk.key"),
        "verifying_key_bytes": os.path.getsize(f"{d}/vk.key"),
        "srs_bytes": os.path.getsize(f"{d}/kzg.srs"),
        "proof_bytes": proof_bytes,
    }


def accuracy(outputs, reference):
    outputs, reference = np.asarray(outputs, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    error = float(np.linalg.norm(outputs - reference) / np.linalg.norm(reference))
    agree = int((outputs.argmax(axis=1) == reference.argmax(axis=1)).sum())
    return {"relative_error": error, "argmax_agreement": agree, "inputs": len(reference)}


def table(results, reps, held_out):
    lines = [
        f"Measured {results['date']} on this {results['cores']}-core machine by "
        "`./scripts/benchmark zk --vs-ezkl` (scripts/zk-vs-ezkl.py): "
        f"EZKL {results['ezkl']} from PyPI, `opg-zk` built in release (its prover on both "
        f"cores); every step its own process, median of {reps}; peak memory is the step's "
        f"largest resident set. OPG 8-bit is `opg-zk import-onnx --bits 8` (8 bits "
        "throughout); OPG 16-bit is its default (16-bit activations and output over an 8-bit "
        "input, 12-bit weights, 11-bit multipliers, headroom 2). Accuracy over "
        f"{held_out} held-out inputs against PyTorch's float outputs (relative error = "
        "‖y − y_float‖ / ‖y_float‖ over all outputs); \"× EZKL\" is OPG's error over "
        "EZKL's.",
        "",
        "| model | EZKL prove | OPG 8-bit prove | speed-up | OPG 16-bit prove | speed-up "
        "| error EZKL | error OPG 8-bit (× EZKL) | error OPG 16-bit (× EZKL) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["models"]:
        ep = r["ezkl"]["steps"]["prove"]["median_s"]
        ea = r["accuracy"]["ezkl"]["relative_error"]
        cells = [r["description"], f"{ep:.2f} s"]
        for bits in (8, 16):
            op = r[f"opg{bits}"]["steps"]["prove"]["median_s"]
            cells += [f"{op:.3f} s", f"**{ep / op:.1f}×**"]
        cells.append(f"{100 * ea:.3f} %")
        for bits in (8, 16):
            oa = r["accuracy"][f"opg{bits}"]["relative_error"]
            cells.append(f"{100 * oa:.3f} % (**{oa / ea:.1f}×**)")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| model | system | setup | prove | verify | peak memory (setup / prove) | proving key "
        "| verifying key | proof | circuit | argmax kept |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["models"]:
        for index, bits in enumerate((8, 16)):
            o, st = r[f"opg{bits}"], r[f"opg{bits}"]["steps"]
            acc = r["accuracy"][f"opg{bits}"]
            lines.append(
                f"| {r['description'] if index == 0 else ''} | OPG {bits}-bit | "
                f"{st['setup']['median_s']:.2f} s | {st['prove']['median_s']:.3f} s | "
                f"{1000 * st['verify']['median_s']:.0f} ms | "
                f"{st['setup']['peak_mb']:.0f} / {st['prove']['peak_mb']:.0f} MB | "
                f"{o['proving_key_bytes'] / 1e6:.1f} MB | {o['verifying_key_bytes']} B | "
                f"{o['proof_bytes']} B | {o['constraints']:,} constraints | "
                f"{acc['argmax_agreement']} / {acc['inputs']} |")
        e, es = r["ezkl"], r["ezkl"]["steps"]
        acc = r["accuracy"]["ezkl"]
        lines.append(
            f"| | EZKL | {es['setup']['median_s']:.2f} s (+ SRS {es['srs']['median_s']:.1f} s) | "
            f"{es['prove']['median_s']:.2f} s (+ witness {es['witness']['median_s']:.2f} s) | "
            f"{1000 * es['verify']['median_s']:.0f} ms | "
            f"{es['setup']['peak_mb']:.0f} / {es['prove']['peak_mb']:.0f} MB | "
            f"{e['proving_key_bytes'] / 1e6:.1f} MB | {e['verifying_key_bytes'] / 1e3:.1f} kB | "
            f"{e['proof_bytes']} B | 2^{e['logrows']} rows | "
            f"{acc['argmax_agreement']} / {acc['inputs']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opg-zk", help="the opg-zk binary")
    parser.add_argument("--ezkl-python", help="a Python with ezkl installed")
    parser.add_argument("--work", type=pathlib.Path, help="where the models and keys go")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--calibration", type=int, default=32)
    parser.add_argument("--held-out", type=int, default=16)
    parser.add_argument("--models", default=",".join(m[0] for m in MODELS))
    parser.add_argument("--json", type=pathlib.Path)
    parser.add_argument("--docs", type=pathlib.Path, help="docs/benchmarks.md to update")
    parser.add_argument("--render", type=pathlib.Path,
                        help="measure nothing: write the tables of this --json file")
    args = parser.parse_args()
    if args.render:
        results = json.loads(args.render.read_text())
        write(table(results, results["reps"], results["held_out"]), args.docs)
        return
    if not (args.opg_zk and args.ezkl_python and args.work):
        parser.error("measuring needs --opg-zk, --ezkl-python and --work")
    chosen = args.models.split(",")
    version = subprocess.run([args.ezkl_python, "-c", "import importlib.metadata as m; print(m.version('ezkl'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    results = {"date": datetime.date.today().isoformat(), "cores": os.cpu_count(),
               "machine": platform.processor() or platform.machine(), "ezkl": version,
               "reps": args.reps, "held_out": args.held_out, "models": []}
    for name, description, builder in MODELS:
        if name not in chosen:
            continue
        folder = args.work / name
        shutil.rmtree(folder, ignore_errors=True)
        calibration, held, reference = build(name, builder, folder, args.calibration, args.held_out)
        result = {"name": name, "description": description, "accuracy": {}}
        for bits in (8, 16):
            print(f"[{name}] OPG int{bits}", file=sys.stderr, flush=True)
            o = opg(args.opg_zk, folder, calibration, held, args.reps, bits)
            result[f"opg{bits}"] = o
            result["accuracy"][f"opg{bits}"] = accuracy(o["outputs"], reference)
        print(f"[{name}] EZKL {version}", file=sys.stderr, flush=True)
        e = ezkl(args.ezkl_python, folder, calibration, held, args.reps)
        result["ezkl"] = e
        result["accuracy"]["ezkl"] = accuracy(e["outputs"], reference)
        summary = {key: result[key]["steps"]["prove"]["median_s"] for key in ("opg8", "opg16", "ezkl")}
        print(json.dumps({"model": name, "prove_s": summary, "accuracy": result["accuracy"]}),
              file=sys.stderr, flush=True)
        results["models"].append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    write(table(results, args.reps, args.held_out), args.docs)


def write(text, docs):
    """Prints the tables and puts them between the markers of `docs`, if given."""
    print(text)
    if docs:
        content = docs.read_text()
        start, end = content.index(BEGIN) + len(BEGIN), content.index(END)
        docs.write_text(content[:start] + "\n" + text + "\n" + content[end:])


if __name__ == "__main__":
    main()
