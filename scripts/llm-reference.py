#!/usr/bin/env python3
"""An independent NumPy reference of a Llama-family GGUF model: what the executor's LLM
engine is checked against.

    llm-reference.py logits  --tokenizer DIR/tokenizer.json --prompts FILE.json --positions N [--gguf FILE]
    llm-reference.py greedy  --tokenizer DIR/tokenizer.json --prompt TEXT --max-tokens N [--gguf FILE]
    llm-reference.py tokens  --tokenizer DIR/tokenizer.json --prompts FILE.json

It reads the GGUF file itself (PyPI's `gguf` dequantizes it), keeps llama.cpp's layout
and rotates adjacent pairs (2i, 2i+1) with RoPE there — not the converted safetensors and
not their rotate-half layout — so that it shares no code and no layout choice with
scripts/llm-convert.py and the engine. `logits` prints JSON: for each prompt (text, run
through the tokenizer) the token ids and the logits of the last `positions` positions.
`greedy` prints the greedy continuation's token ids and text. `tokens` prints the ids of
each text of the file as Python's `tokenizers` (Hugging Face's reference implementation)
encodes them, and their decoding.
"""

import argparse
import json
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from importlib import import_module

convert = import_module("llm-convert")


class Model:
    def __init__(self, path):
        reader = GGUFReader(path)
        f = lambda name, default=None: convert.field(reader, name, default)
        self.layers = int(f("llama.block_count"))
        self.heads = int(f("llama.attention.head_count"))
        self.kv_heads = int(f("llama.attention.head_count_kv"))
        self.width = int(f("llama.embedding_length"))
        self.head_dim = self.width // self.heads
        self.theta = float(f("llama.rope.freq_base"))
        self.eps = float(f("llama.attention.layer_norm_rms_epsilon"))
        self.eos = int(f("tokenizer.ggml.eos_token_id"))
        self.w = {}
        for tensor in reader.tensors:
            shape = [int(n) for n in reversed(tensor.shape)]
            if tensor.tensor_type == GGMLQuantizationType.F32:
                array = np.asarray(tensor.data, dtype=np.float32)
            else:
                array = dequantize(tensor.data, tensor.tensor_type)
            self.w[tensor.name] = np.array(array.reshape(shape), dtype=np.float32)
        self.head = self.w.get("output.weight", self.w["token_embd.weight"])

    def norm(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x, positions):
        # x: [tokens, heads, head_dim], pairs (2i, 2i+1) rotated by position * theta^(-2i/d).
        half = self.head_dim // 2
        freqs = self.theta ** (-np.arange(half, dtype=np.float64) * 2 / self.head_dim)
        angles = positions[:, None].astype(np.float64) * freqs[None, :]
        cos = np.cos(angles).astype(np.float32)[:, None, :]
        sin = np.sin(angles).astype(np.float32)[:, None, :]
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def forward(self, ids):
        """Logits of every position of `ids` (one sequence, causal)."""
        n = len(ids)
        positions = np.arange(n)
        x = self.w["token_embd.weight"][ids]
        group = self.heads // self.kv_heads
        mask = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
        for layer in range(self.layers):
            p = lambda name: self.w[f"blk.{layer}.{name}.weight"]
            h = self.norm(x, p("attn_norm"))
            q = (h @ p("attn_q").T).reshape(n, self.heads, self.head_dim)
            k = (h @ p("attn_k").T).reshape(n, self.kv_heads, self.head_dim)
            v = (h @ p("attn_v").T).reshape(n, self.kv_heads, self.head_dim)
            q, k = self.rope(q, positions), self.rope(k, positions)
            k = np.repeat(k, group, axis=1)
            v = np.repeat(v, group, axis=1)
            scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(self.head_dim) + mask
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            attended = np.einsum("hqk,khd->qhd", scores, v).reshape(n, self.width)
            x = x + attended @ p("attn_output").T
            h = self.norm(x, p("ffn_norm"))
            gate = h @ p("ffn_gate").T
            x = x + ((gate / (1 + np.exp(-gate))) * (h @ p("ffn_up").T)) @ p("ffn_down").T
        return self.norm(x, self.w["output_norm.weight"]) @ self.head.T


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["logits", "greedy", "tokens"])
    parser.add_argument("--gguf")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--prompts")
    parser.add_argument("--positions", type=int, default=4)
    parser.add_argument("--prompt")
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(args.tokenizer)
    if args.mode == "tokens":
        out = []
        for text in json.load(open(args.prompts)):
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            out.append({"text": text, "ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False)})
        json.dump(out, sys.stdout)
        return
    model = Model(args.gguf or convert.packaged_gguf())
    if args.mode == "logits":
        out = []
        for prompt in json.load(open(args.prompts)):
            ids = tokenizer.encode(prompt, add_special_tokens=False).ids
            logits = model.forward(ids)[-args.positions:]
            out.append({"prompt": prompt, "ids": ids, "logits": logits.tolist()})
        json.dump(out, sys.stdout)
    else:
        ids = tokenizer.encode(args.prompt, add_special_tokens=False).ids
        answer = []
        for _ in range(args.max_tokens):
            token = int(np.argmax(model.forward(ids + answer)[-1]))
            answer.append(token)
            if token == model.eos:
                break
        print(json.dumps({"ids": answer, "text": tokenizer.decode(answer, skip_special_tokens=False)}))


if __name__ == "__main__":
    main()
