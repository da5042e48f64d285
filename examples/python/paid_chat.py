"""Chat with a language model paid by the token, every answer verified, with the Python SDK.

Given a node's gateway (``--gateway``) selling a language model (``--model``, its name
there) at a price per token, as account ``--signer``: the first call is answered ``402``,
which the SDK answers by opening a payment channel to the node the offer names; each call
is then paid by a voucher authorizing the prompt and ``--max-tokens`` tokens, charged what
it used, and its evidence (the node key's signature over the exact request, text, seed and
amount; the node registered; the model published) checked before the text is trusted. The
second call is streamed: its pieces are printed as they come, and checked when it ends.

Prints one JSON line a call; exits non-zero if an answer fails its check.

    python examples/python/paid_chat.py --url ws://127.0.0.1:9944 --signer //Bob \\
        --gateway http://127.0.0.1:8080 --model smollm2-135m-instruct
"""

import argparse
import json
import sys

from opg.client import Client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:9944")
    parser.add_argument("--signer", default="//Bob")
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--max-tokens", type=int, default=24)
    args = parser.parse_args()
    ask = [{"role": "user", "content": "What is the capital of France?"}]
    with Client(args.url, args.signer, gateway=args.gateway) as client:
        answer = client.chat(args.model, ask, max_tokens=args.max_tokens, temperature=0)
        print(json.dumps({"call": 1, "text": answer.text, "charged": answer.payment["charged"],
                          "cumulative": answer.payment["cumulative"], "verdict": str(client.verify(answer))}), flush=True)
        stream = client.chat(args.model, ask, max_tokens=args.max_tokens, temperature=0, stream=True)
        pieces = []
        for piece in stream:
            pieces.append(piece)
            print(piece, end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        done = stream.answer
        print(json.dumps({"call": 2, "streamed": True, "text": "".join(pieces), "charged": done.payment["charged"],
                          "cumulative": done.payment["cumulative"], "verdict": str(stream.verdict)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
