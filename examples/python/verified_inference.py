"""A verified inference, each way OPG serves one, with the Python SDK (``pip install ./sdk/python``).

Given a published model (``--model``, an id; a quantized MLP of 784 → 10 int8 in the demo
that ``./scripts/dev`` publishes) and a node's gateway (``--gateway``), as account
``--signer``:

1. lists the model hub;
2. requests an inference on chain in vanilla mode, waits until it is settled and checks
   the node key's signature over it (and that the node is registered);
3. the same in ZKML mode: the Groth16 proof is checked here, against the model's verifying
   key read from the chain, for this input, output, request and node;
4. calls the model directly at the gateway: the ``402`` is answered by opening a payment
   channel, each call is paid by a voucher and answered at once with evidence checked here;
5. shows that an answer altered by one byte fails its check, and says which;
6. does it again with the async twin, ``AsyncClient``: two direct calls at once.

Prints one JSON line a step and exits non-zero if anything fails to verify.

    python examples/python/verified_inference.py --url ws://127.0.0.1:9944 --signer //Bob \\
        --model 0 --gateway http://127.0.0.1:8080
"""

import argparse
import asyncio
import dataclasses
import json
import sys
import time

from opg.client import OPG, AsyncClient, Client


def demo_input(length: int, seed: int) -> bytes:
    """A deterministic input of ``length`` bytes (the demo's: ``(i·31 + seed·17) mod 256``)."""
    return bytes((i * 31 + seed * 17) % 256 for i in range(length))


def say(step: str, **fields) -> None:
    print(json.dumps({"step": step, **fields}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:9944")
    parser.add_argument("--signer", default="//Bob")
    parser.add_argument("--model", type=int, required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--zkml", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    with Client(args.url, args.signer, gateway=args.gateway) as client:
        models = client.models.list()
        say("models", models=[{"id": m.id, "name": m.name, "hash": "0x" + m.hash.hex(), "format": m.format,
                               "modes": m.mode_names, "price": str(m.price)} for m in models])
        model = client.models.get(args.model)
        length = model.record["spec"]["schema"]["inputs"][0]["shape"][0]

        started = time.monotonic()
        result = client.infer(model.id, demo_input(length, 1))  # raises EvidenceError if a check fails
        say("on-chain vanilla", request=result.id, block=result.at, output="0x" + result.output.hex(),
            paid=str(result.paid), protocolFee=str(result.protocol_fee),
            seconds=round(time.monotonic() - started, 1), verdict=str(client.verify(result)))

        if args.zkml:
            started = time.monotonic()
            proven = client.infer(model.id, demo_input(length, 2), mode="Zkml")
            say("on-chain zkml", request=proven.id, block=proven.at, output="0x" + proven.output.hex(),
                proofBytes=len(proven.evidence["proof"]) // 2 - 1, seconds=round(time.monotonic() - started, 1),
                verdict=str(client.verify(proven)))

        answers = []
        for seed in (3, 4):
            started = time.monotonic()
            answer = client.direct(model.id, demo_input(length, seed))  # opens a channel on the first 402
            answers.append(answer)
            say("direct", channel=answer.channel, output="0x" + answer.output.hex(), charged=str(answer.charged),
                cumulative=str(answer.cumulative), remaining=str(answer.remaining),
                milliseconds=round(1000 * (time.monotonic() - started)), verdict=str(client.verify(answer)))

        forged = dataclasses.replace(answers[0], output=bytes([answers[0].output[0] ^ 1]) + answers[0].output[1:])
        verdict = client.verify(forged)
        say("altered answer", verified=verdict.ok, verdict=str(verdict))
        if verdict.ok:
            return 1
    concurrent = asyncio.run(async_calls(args, length))
    say("async", outputs=["0x" + answer.output.hex() for answer, _ in concurrent],
        verdicts=[str(verdict) for _, verdict in concurrent])
    if not all(verdict for _, verdict in concurrent):
        return 1
    say("done", directCalls=len(answers) + len(concurrent), spentOPG=answers[-1].cumulative / OPG)
    return 0


async def async_calls(args, length: int):
    """Two direct calls at once through the async twin, each answer with its verdict."""
    async with await AsyncClient.connect(args.url, args.signer, gateway=args.gateway) as client:
        model = await client.models.get(args.model)
        answers = await asyncio.gather(*(client.direct(model.id, demo_input(length, seed)) for seed in (5, 6)))
        return [(answer, await client.verify(answer)) for answer in answers]


if __name__ == "__main__":
    sys.exit(main())
