"""``opg``: OPG from the command line.

Every command takes ``--url`` (the node's RPC, ``$OPG_URL``, by default
``ws://127.0.0.1:9944``) and, to send transactions, ``--signer`` (a secret URI,
``$OPG_SIGNER``, e.g. ``//Bob`` on a development chain); direct calls ``--gateway``
(``$OPG_GATEWAY``, a node's public listener). An error is one line on stderr and exit
status 1; a failed evidence check is exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EVIDENCE_FAILED = 2


def _client(args, *, signer: bool = False):
    from opg.client import Client

    if signer and not args.signer:
        raise SystemExit("opg: error: this command sends a transaction: give --signer or set OPG_SIGNER")
    return Client(args.url, args.signer or None, gateway=getattr(args, "gateway", None))


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _amount(text: str) -> int:
    """An amount in OPG (``1.5``) or in plancks (``1500000000000000000p``)."""
    from decimal import Decimal, InvalidOperation

    from opg.client import OPG

    try:
        if text.endswith("p"):
            return int(text[:-1])
        value = Decimal(text) * OPG
    except (InvalidOperation, ValueError):
        raise argparse.ArgumentTypeError(f"not an amount: {text!r} (OPG, or plancks with a 'p' suffix)") from None
    if value != value.to_integral_value() or value < 0:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}")
    return int(value)


def _opg(plancks: int) -> str:
    from decimal import Decimal

    from opg.client import OPG

    return f"{Decimal(plancks) / OPG:f} OPG"


def _flags(text: str, table: dict[str, int], kind: str) -> int:
    """Comma-separated names of ``table`` (any case) as one set of flags."""
    flags = 0
    for name in text.split(","):
        match = [flag for known, flag in table.items() if known.lower() == name.strip().lower()]
        if not match:
            raise argparse.ArgumentTypeError(f"unknown {kind} {name!r}: {', '.join(k.lower() for k in table)}")
        flags |= match[0]
    return flags


def _modes(text: str) -> int:
    from opg.client import MODES

    return _flags(text, MODES, "mode")


def _roles(text: str) -> int:
    from opg.client import ROLES

    return _flags(text, ROLES, "role")


def _tolerance(text: str) -> tuple[float, float]:
    """``ABS,REL`` (``1e-5,1e-4``): a float model's tolerance."""
    from opg.types import tolerance_to_chain

    try:
        absolute, relative = (float(part) for part in text.split(","))
        tolerance_to_chain((absolute, relative))
    except ValueError as e:
        detail = f": {e}" if "bound" in str(e) else ""
        raise argparse.ArgumentTypeError(f"not a tolerance: {text!r} (ABS,REL such as 1e-5,1e-4){detail}") from None
    return absolute, relative


def _mode(text: str) -> str:
    from opg.client import MODES

    for name in MODES:
        if name.lower() == text.lower():
            return name
    raise argparse.ArgumentTypeError(f"unknown mode {text!r}: vanilla, tee or zkml")


def _input(args) -> bytes:
    if args.input == "-":
        return sys.stdin.buffer.read()
    return Path(args.input).read_bytes()


def cmd_models(args) -> int:
    from rich.console import Console
    from rich.table import Table

    with _client(args) as client:
        models = client.models.list()
    if args.json:
        print(json.dumps([{"id": m.id, "name": m.name, "version": m.version, "format": m.format,
                           "hash": "0x" + m.hash.hex(), "size": m.size, "price": str(m.price),
                           "modes": m.mode_names, "owner": m.owner,
                           "tolerance": dict(zip(("absolute", "relative"), m.tolerance)) if m.tolerance else None}
                          for m in models], indent=2))
        return 0
    table = Table("id", "name", "version", "format", "hash", "price", "modes")
    for m in models:
        table.add_row(str(m.id), m.name, m.version, m.format, "0x" + m.hash.hex()[:16] + "…", _opg(m.price),
                      ",".join(m.mode_names))
    Console().print(table)
    return 0


def _progress():
    """A rich progress display on stderr: bars for bytes, spinners for steps."""
    from rich.progress import (BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                               TransferSpeedColumn)

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeElapsedColumn(), console=_console(), transient=False)


def cmd_model_publish(args) -> int:
    schema = json.loads(Path(args.schema).read_text()) if args.schema else None
    if schema is None:
        raise SystemExit("opg: error: give the model's --schema (a JSON file: {\"inputs\": [...], \"outputs\": [...]})")
    key = Path(args.verifying_key).read_bytes() if args.verifying_key else None
    with _client(args, signer=True) as client, _progress() as bars:
        tasks = {}

        def step(name: str, done: int, total: int) -> None:
            labels = {"upload": f"uploading to {args.upload}", "setup": "ZKML setup (opg-zk setup)",
                      "publish": f"publishing {args.name}"}
            if name not in tasks:
                tasks[name] = bars.add_task(labels[name], total=total if name == "upload" else None)
            if name == "upload":
                bars.update(tasks[name], completed=done)
            elif done == total:
                bars.update(tasks[name], total=1, completed=1)

        published = client.models.publish(
            args.file, name=args.name, schema=schema, format=args.format, price=args.price, modes=args.modes,
            version=args.version, verifying_key=key, tolerance=args.tolerance, upload=args.upload, token=args.upload_token,
            zk_out=args.zk_keys, opg_zk=args.opg_zk, progress=step)
    print(json.dumps({"model": published["model"], "hash": "0x" + published["hash"].hex(), "size": published["size"],
                      "uploaded": args.upload, "keys": str(published["keys"]) if published["keys"] else None}))
    where = (f"it is in the store of {args.upload}" if args.upload
             else f"its nodes serve it once the artifact is in their store (opg model publish --upload, or "
                  f"opg-executor put {args.file} --store DIR)")
    print(f"model {published['model']} published; {where}", file=sys.stderr)
    if published["keys"]:
        print(f"ZKML keys in {published['keys']}: give {published['keys']} to the proving nodes (--zk-keys); "
              "the verifying key is on chain", file=sys.stderr)
    return 0


def _print_result(result, verdict) -> None:
    print(json.dumps({
        "request": result.id, "mode": result.mode, "block": result.at, "node": "0x" + result.node.hex(),
        "output": "0x" + result.output.hex() if result.output is not None else None,
        "outputHash": "0x" + result.output_hash.hex(), "paid": str(result.paid), "protocolFee": str(result.protocol_fee),
        "verified": verdict.ok, "checks": [{"name": c.name, "ok": c.ok, **({"detail": c.detail} if not c.ok else {})}
                                           for c in verdict.checks],
    }, indent=2))


def cmd_infer(args) -> int:
    data = _input(args)
    with _client(args, signer=True) as client:
        console = _console()
        with console.status(f"requesting model {args.model} in {args.mode} mode") as status:
            result = client.infer(args.model, data, mode=args.mode, settlement=args.settlement, verify=False,
                                  timeout=args.timeout, progress=status.update)
            status.update("checking the evidence")
            verdict = client.verify(result)
    _print_result(result, verdict)
    print(str(verdict), file=sys.stderr)
    return 0 if verdict else EVIDENCE_FAILED


def cmd_verify(args) -> int:
    with _client(args) as client:
        result = client.result(args.request)
        if result is None:
            raise SystemExit(f"opg: error: request {args.request} is not settled (or unknown)")
        request = client.query("Inference", "Requests", [args.request])
        result.model = int(request["model"]) if request else args.model
        if args.input:
            result.input = _input(args)
        verdict = client.verify(result)
    _print_result(result, verdict)
    print(str(verdict), file=sys.stderr)
    return 0 if verdict else EVIDENCE_FAILED


def cmd_challenge(args) -> int:
    with _client(args, signer=True) as client:
        event = client.verification.challenge(args.request)
    print(json.dumps({"request": args.request, "case": int(event["case"]), "bond": str(event["bond"])}))
    print(f"case {int(event['case'])}: its committee is drawn at the next block; `opg case {args.request}` follows it",
          file=sys.stderr)
    return 0


def cmd_case(args) -> int:
    with _client(args) as client:
        case = client.verification.case(args.request)
        if case is None:
            raise SystemExit(f"opg: error: request {args.request}'s result is not checked (neither sampled nor "
                             "challenged)")
        held = client.verification.held(args.request)
    print(json.dumps({"request": args.request, **case, "held": held}, indent=2, default=str))
    return 0


def cmd_honeypot(args) -> int:
    if args.node_key_file:
        node_key = "0x" + Path(args.node_key_file).read_text().strip().removeprefix("0x")
    elif args.node_key_uri:
        node_key = args.node_key_uri
    else:
        raise SystemExit("opg: error: give the planted node's key: --node-key-file or --node-key-uri")
    if not args.authority:
        raise SystemExit("opg: error: give the honeypot authority key: --authority or OPG_HONEYPOT_AUTHORITY")
    with _client(args, signer=True) as client, _console().status("honeypot") as status:
        report = client.honeypots.run(args.model, args.executor, node_key, args.authority, token=args.token,
                                      timeout=args.timeout, progress=lambda text: status.update(text))
    print(json.dumps(report, indent=2, default=str))
    signed = [v["verifier"] for v in report["verdicts"] if v["verdict"] == "Valid"]
    print(f"case {report['case']}: {report['outcome']}; "
          + (f"{len(signed)} verifier(s) signed it valid without checking" if signed else "every verifier caught it"),
          file=sys.stderr)
    return 0


def cmd_direct(args) -> int:
    data = _input(args)
    model = int(args.model) if args.model.isdigit() else args.model
    with _client(args, signer=True) as client:
        answer = client.direct(model, data, deposit=args.deposit, verify=False)
        verdict = client.verify(answer)
    print(json.dumps({
        "output": "0x" + answer.output.hex(), "node": "0x" + answer.node.hex() if answer.node else None,
        "channel": answer.channel, "charged": str(answer.charged), "cumulative": str(answer.cumulative),
        "remaining": None if answer.remaining is None else str(answer.remaining), "verified": verdict.ok,
    }, indent=2))
    print(str(verdict), file=sys.stderr)
    return 0 if verdict else EVIDENCE_FAILED


def cmd_chat(args) -> int:
    """A conversation with a language model at a node's gateway: each answer streamed,
    then its evidence checked (``[verified: ...]`` on stderr)."""
    from opg.client import EvidenceError

    model = int(args.model) if args.model.isdigit() else args.model
    params = {key: value for key, value in (("temperature", args.temperature), ("seed", args.seed))
              if value is not None}
    history: list[dict] = []
    interactive = args.message is None and sys.stdin.isatty()
    lines = [args.message] if args.message is not None else sys.stdin
    with _client(args, signer=True) as client:
        if interactive:
            print("you> ", end="", file=sys.stderr, flush=True)
        for line in lines:
            text = line.strip()
            if not text:
                continue
            history.append({"role": "user", "content": text})
            stream = client.chat(model, history, stream=True, max_tokens=args.max_tokens, deposit=args.deposit,
                                 **params)
            reply = []
            try:
                for piece in stream:
                    reply.append(piece)
                    print(piece, end="", flush=True)
            except EvidenceError as e:
                print(f"\nopg: evidence: {e}", file=sys.stderr)
                return 2
            print()
            print(f"[{stream.verdict}]", file=sys.stderr)
            history.append({"role": "assistant", "content": "".join(reply)})
            if interactive:
                print("you> ", end="", file=sys.stderr, flush=True)
    return 0


def cmd_proxy(args) -> int:
    from opg.proxy import Proxy

    with _client(args, signer=True) as client:
        server = Proxy(client, args.model, gateway=args.gateway, max_tokens=args.max_tokens).server(port=args.port)
        host, port = server.server_address[:2]
        print(f"opg proxy: http://{host}:{port}/v1 → {args.gateway} ({args.model}); every answer's evidence is "
              f"checked before it is returned. Ctrl-C stops.", file=sys.stderr, flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    return 0


def cmd_channel_open(args) -> int:
    with _client(args, signer=True) as client:
        channel = client.channels.open(args.node, args.deposit, blocks=args.blocks)
    print(json.dumps({"channel": channel.id, "node": "0x" + channel.node.hex(), "deposit": str(channel.deposit)}))
    return 0


def cmd_channel_close(args) -> int:
    with _client(args, signer=True) as client:
        closes_at = client.channels.close(args.channel)
    print(json.dumps({"channel": args.channel, "closesAt": closes_at}))
    print(f"channel {args.channel} closing: `opg channel withdraw {args.channel}` from block {closes_at}",
          file=sys.stderr)
    return 0


def cmd_channel_withdraw(args) -> int:
    with _client(args, signer=True) as client:
        refund = client.channels.withdraw(args.channel)
    print(json.dumps({"channel": args.channel, "refund": str(refund)}))
    return 0


def _node_key(args) -> str | None:
    if args.executor:
        return None
    if args.node_key_file:
        return "0x" + Path(args.node_key_file).read_text().strip().removeprefix("0x")
    if args.node_key_uri:
        return args.node_key_uri
    raise SystemExit("opg: error: give the node's key: --node-key-file (opg-executor's seed file), --node-key-uri, "
                     "or --executor (a TEE node's executor signs for it)")


def cmd_node_register(args) -> int:
    models = [int(m) for m in args.models.split(",") if m.strip()]
    with _client(args, signer=True) as client:
        key = client.nodes.register(_node_key(args), models, args.modes, args.bond, roles=args.roles,
                                    executor=args.executor, token=args.token, endpoint=args.endpoint,
                                    hardware=args.hardware, jobs_per_block=args.jobs_per_block)
    print(json.dumps({"node": "0x" + key.hex(), "roles": args.roles, "models": models, "bond": str(args.bond)}))
    return 0


def cmd_node_attest(args) -> int:
    with _client(args, signer=True) as client:
        with _console().status(f"attesting {args.node}: challenge, evidence from {args.executor}, submission"):
            event = client.nodes.attest(args.node, args.executor, token=args.token)
    print(json.dumps({"node": args.node, **{k: (v if isinstance(v, (int, str)) else str(v)) for k, v in event.items()
                                             if k != "node"}}))
    return 0


def cmd_node_unregister(args) -> int:
    with _client(args, signer=True) as client:
        event = client.nodes.unregister(args.node)
    print(json.dumps({"node": args.node, "until": int(event["until"])}))
    return 0


def cmd_node_withdraw(args) -> int:
    with _client(args, signer=True) as client:
        event = client.nodes.withdraw(args.node)
    print(json.dumps({"node": args.node, "released": str(event["released"])}))
    return 0


def cmd_node_status(args) -> int:
    with _client(args) as client:
        record = client.nodes.get(args.node)
        if record is None:
            raise SystemExit(f"opg: error: node {args.node} is not registered")
        attestation = client.nodes.attestation(args.node)
    print(json.dumps({"node": args.node, "record": record, "attestation": attestation}, indent=2, default=str))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="opg", description="OPG, verifiable AI inference, from the command line.")
    top.add_argument("--url", default=os.environ.get("OPG_URL", "ws://127.0.0.1:9944"),
                     help="the node's RPC (default $OPG_URL or ws://127.0.0.1:9944)")
    top.add_argument("--signer", default=os.environ.get("OPG_SIGNER"),
                     help="the account's secret URI, e.g. //Bob (default $OPG_SIGNER)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = commands.add_parser("models", help="list the model hub's models")
    models.add_argument("--json", action="store_true", help="as JSON")
    models.set_defaults(run=cmd_models)

    model = commands.add_parser("model", help="publish a model").add_subparsers(dest="action", required=True)
    publish = model.add_parser("publish", help="publish FILE's model (hash and size) in the model hub")
    publish.add_argument("file")
    publish.add_argument("--name", required=True)
    publish.add_argument("--schema", help="JSON file: {\"inputs\": [{\"shape\": [784], \"dtype\": \"I8\"}], ...}")
    publish.add_argument("--format", default="QuantizedInteger",
                         help="QuantizedInteger, TorchScript, Onnx or Llm (default QuantizedInteger)")
    publish.add_argument("--price", type=_amount, default=_amount("1"), help="OPG a call (default 1)")
    publish.add_argument("--modes", type=_modes, default=_modes("vanilla"), help="e.g. vanilla,zkml")
    publish.add_argument("--version", default="1.0.0")
    publish.add_argument("--tolerance", type=_tolerance, metavar="ABS,REL",
                         help="a float model's tolerance, e.g. 1e-5,1e-4: verifiers accept outputs within "
                              "ABS + REL*|theirs| of their own (default: equal bytes)")
    publish.add_argument("--verifying-key", help="the Groth16 verifying key file (ZKML; default: run the setup)")
    publish.add_argument("--upload", metavar="EXECUTOR",
                         help="put the file into this node's store first (its executor's node URL, e.g. http://127.0.0.1:8700)")
    publish.add_argument("--upload-token", default=os.environ.get("OPG_EXECUTOR_TOKEN"),
                         help="the executor's node token, for a listener that is not loopback")
    publish.add_argument("--zk-keys", help="where the ZKML setup writes its keys (default: a new temporary directory)")
    publish.add_argument("--opg-zk", help="the opg-zk binary (default: $OPG_ZK, else on the PATH)")
    publish.set_defaults(run=cmd_model_publish)

    infer = commands.add_parser("infer", help="request an inference on chain and check its evidence")
    infer.add_argument("model", type=int)
    infer.add_argument("--input", required=True, help="input bytes (a file, or - for stdin)")
    infer.add_argument("--mode", type=_mode, default="Vanilla", help="vanilla, tee or zkml")
    infer.add_argument("--settlement", default="Individual", choices=["Individual", "Batch"])
    infer.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for settlement")
    infer.set_defaults(run=cmd_infer)

    direct = commands.add_parser("direct", help="call a model at a node's gateway, paying through a channel")
    direct.add_argument("model", help="model id or hash")
    direct.add_argument("--input", required=True, help="input bytes (a file, or - for stdin)")
    direct.add_argument("--gateway", default=os.environ.get("OPG_GATEWAY"), required="OPG_GATEWAY" not in os.environ,
                        help="the node's public listener (default $OPG_GATEWAY)")
    direct.add_argument("--deposit", type=_amount, help="a new channel's deposit (default 100 calls)")
    direct.set_defaults(run=cmd_direct)

    chat = commands.add_parser("chat", help="chat with a language model at a node's gateway, checking each answer")
    chat.add_argument("model", help="its name at the gateway (e.g. smollm2-135m-instruct) or model hub id")
    chat.add_argument("--message", help="one message (default: a line at a time from stdin)")
    chat.add_argument("--gateway", default=os.environ.get("OPG_GATEWAY"), required="OPG_GATEWAY" not in os.environ,
                      help="the node's public listener (default $OPG_GATEWAY)")
    chat.add_argument("--max-tokens", type=int, default=256)
    chat.add_argument("--temperature", type=float)
    chat.add_argument("--seed", type=int)
    chat.add_argument("--deposit", type=_amount, help="a new channel's deposit, if the model is priced")
    chat.set_defaults(run=cmd_chat)

    proxy = commands.add_parser("proxy", help="a local OpenAI-compatible server returning only verified answers")
    proxy.add_argument("--model", required=True, help="the language model's name at the gateway")
    proxy.add_argument("--gateway", default=os.environ.get("OPG_GATEWAY"), required="OPG_GATEWAY" not in os.environ,
                       help="the node's public listener (default $OPG_GATEWAY)")
    proxy.add_argument("--port", type=int, default=8090, help="on 127.0.0.1 (default 8090; 0: any free port)")
    proxy.add_argument("--max-tokens", type=int, default=256, help="when a request names none")
    proxy.set_defaults(run=cmd_proxy)

    verify = commands.add_parser("verify", help="check a settled request's evidence")
    verify.add_argument("request", type=int)
    verify.add_argument("--input", help="the input sent (a file): checks it and, for ZKML, the proof over it")
    verify.add_argument("--model", type=int, help="the model, if the chain no longer records the request")
    verify.set_defaults(run=cmd_verify)

    challenge = commands.add_parser("challenge", help="challenge a result in its window, posting the challenge bond")
    challenge.add_argument("request", type=int, help="the request whose result is challenged")
    challenge.set_defaults(run=cmd_challenge)

    case = commands.add_parser("case", help="the case checking a result: its committee, phase and verdicts")
    case.add_argument("request", type=int, help="the request whose result is checked")
    case.set_defaults(run=cmd_case)

    honeypot = commands.add_parser(
        "honeypot", help="a verification program's honeypot: plant a wrong answer on your node, challenge it, expose it")
    honeypot.add_argument("model", type=int)
    honeypot.add_argument("--executor", required=True,
                          help="the planted node's executor (its node listener, e.g. http://127.0.0.1:8700)")
    honeypot.add_argument("--token", default=os.environ.get("OPG_EXECUTOR_TOKEN"),
                          help="the executor's node token, for a listener that is not loopback")
    honeypot.add_argument("--node-key-file", help="the planted node's key: opg-executor's seed file")
    honeypot.add_argument("--node-key-uri", help="the planted node's key as a secret URI")
    honeypot.add_argument("--authority", default=os.environ.get("OPG_HONEYPOT_AUTHORITY"),
                          help="the chain's honeypot authority key, a secret URI (or OPG_HONEYPOT_AUTHORITY)")
    honeypot.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run")
    honeypot.set_defaults(run=cmd_honeypot)

    channel = commands.add_parser("channel", help="payment channels").add_subparsers(dest="action", required=True)
    opened = channel.add_parser("open", help="open a channel to a node key")
    opened.add_argument("node")
    opened.add_argument("--deposit", type=_amount, required=True, help="OPG held for the node")
    opened.add_argument("--blocks", type=int, default=3600, help="blocks until it may be withdrawn unsettled")
    opened.set_defaults(run=cmd_channel_open)
    close = channel.add_parser("close", help="start closing a channel")
    close.add_argument("channel", type=int)
    close.set_defaults(run=cmd_channel_close)
    withdraw = channel.add_parser("withdraw", help="refund a closed or expired channel's rest")
    withdraw.add_argument("channel", type=int)
    withdraw.set_defaults(run=cmd_channel_withdraw)

    node = commands.add_parser("node", help="the node registry").add_subparsers(dest="action", required=True)
    register = node.add_parser("register", help="register an inference or verification node operated by --signer")
    register.add_argument("--node-key-file", help="the node key's 32-byte seed, hex (opg-executor --node-key)")
    register.add_argument("--node-key-uri", help="or the node key's secret URI (development)")
    register.add_argument("--executor", help="or the node's executor (node URL), which signs with a key it never shows "
                                             "(TEE mode: opg-executor serve --evidence … --operator)")
    register.add_argument("--token", default=os.environ.get("OPG_EXECUTOR_TOKEN"), help="the executor's node token")
    register.add_argument("--roles", type=_roles, default=_roles("inference"),
                          help="inference (serves requests, the default), verifier (checks others' results: "
                               "docs/verification.md), or both: inference,verifier")
    register.add_argument("--models", required=True, help="model ids it serves (or checks), e.g. 0,1")
    register.add_argument("--modes", type=_modes, default=_modes("vanilla"), help="e.g. vanilla,zkml")
    register.add_argument("--bond", type=_amount, required=True, help="OPG held from the operator")
    register.add_argument("--endpoint", default="", help="its public gateway URL")
    register.add_argument("--hardware", default="Cpu", choices=["Cpu", "Gpu"])
    register.add_argument("--jobs-per-block", type=int, default=1000)
    register.set_defaults(run=cmd_node_register)
    attest = node.add_parser("attest", help="attest an operated node: challenge, its executor's TEE evidence, submission")
    attest.add_argument("node", help="its key, 0x-hex")
    attest.add_argument("--executor", required=True, help="the node's executor (node URL, e.g. http://127.0.0.1:8700)")
    attest.add_argument("--token", default=os.environ.get("OPG_EXECUTOR_TOKEN"), help="the executor's node token")
    attest.set_defaults(run=cmd_node_attest)

    unregister = node.add_parser("unregister", help="start an operated node's exit: no new work, bond released later")
    unregister.add_argument("node", help="its key, 0x-hex")
    unregister.set_defaults(run=cmd_node_unregister)
    withdraw_node = node.add_parser("withdraw", help="release an exited node's bond after its unbonding period")
    withdraw_node.add_argument("node", help="its key, 0x-hex")
    withdraw_node.set_defaults(run=cmd_node_withdraw)

    status = node.add_parser("status", help="a node's registry record and attestation")
    status.add_argument("node", help="its key, 0x-hex")
    status.set_defaults(run=cmd_node_status)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("opg: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one clear line, whatever failed
        from opg.client import ChainError, EvidenceError

        kind = "evidence" if isinstance(e, EvidenceError) else "error"
        detail = str(e) if isinstance(e, (ChainError, EvidenceError, ValueError, OSError)) else f"{type(e).__name__}: {e}"
        print(f"opg: {kind}: {detail}", file=sys.stderr)
        return EVIDENCE_FAILED if isinstance(e, EvidenceError) else 1


if __name__ == "__main__":
    sys.exit(main())

