"""Publish a PyTorch model and request it in each verification mode, with the Python SDK.

A model owner wrote ``--model-file`` with PyTorch (``torch.jit.script(model).save(...)``;
``scripts/torch-model.py`` writes a 16 → 32 → 4 MLP) and runs it on a node whose executor
serves it on libtorch (``opg-executor serve --config`` naming it) in TEE mode. As account
``--signer``, the operator of that node:

1. publishes the file in the model hub (format TorchScript, float32 schema), uploading it
   into the node's store first (``PUT /v1/artifacts``: the executor refuses other bytes);
2. adds the new model to the node's capabilities (the node key is read from the
   executor's ``/health``);
3. requests an inference of it on chain in vanilla mode and in TEE mode, each returned once
   settled and checked: the node key registered (and, for TEE, attested at the result's
   block), its signature over this input, model and output.

Prints one JSON line a step and exits non-zero if anything fails to verify.

    python examples/python/torchscript_model.py --url ws://127.0.0.1:9944 --signer //Alice \\
        --executor http://127.0.0.1:8700 --model-file model.pt
"""

import argparse
import json
import struct
import sys

import httpx

from opg.client import MODES, Client


def say(step: str, **fields) -> None:
    print(json.dumps({"step": step, **fields}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:9944")
    parser.add_argument("--signer", default="//Alice")
    parser.add_argument("--executor", required=True, help="the serving node's executor (node URL)")
    parser.add_argument("--model-file", required=True)
    parser.add_argument("--name", default="my-torch-mlp")
    args = parser.parse_args()

    health = httpx.get(args.executor.rstrip("/") + "/health").json()
    node = health["node"]
    schema = {"inputs": [{"shape": [1, 16], "dtype": "F32"}], "outputs": [{"shape": [1, 4], "dtype": "F32"}]}
    modes = MODES["Vanilla"] | MODES["Tee"]
    with Client(args.url, args.signer) as client:
        published = client.models.publish(args.model_file, name=args.name, schema=schema, format="TorchScript",
                                          modes=modes, upload=args.executor)
        model = published["model"]
        say("published", model=model, hash="0x" + published["hash"].hex(), size=published["size"])

        record = client.nodes.get(node)
        served = [int(m) for m in record["capabilities"]["models"]]
        client.nodes.update_capabilities(node, sorted(set(served) | {model}), modes)
        say("serving", node=node, models=sorted(set(served) | {model}))

        values = [0.25 * (i % 7) - 0.5 for i in range(16)]
        input_ = struct.pack("<16f", *values)
        for mode in ("Vanilla", "Tee"):
            result = client.infer(model, input_, mode=mode)
            verdict = client.verify(result)
            say(f"on-chain {mode.lower()}", request=result.id, output=list(struct.unpack("<4f", result.output)),
                verdict=str(verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
