"""A client of an OPG chain and its nodes' gateways.

:class:`Client` connects to a node's RPC (WebSocket) through PyPI's
``substrate-interface`` and signs as an account (a ``Keypair``, or a secret URI such as
``"//Bob"`` on a development chain):

- ``client.models``: the model hub (:class:`Models`: ``list``, ``get``, ``publish``);
- ``client.infer(model, input, mode=...)``: an inference requested on chain, returned
  once settled with its evidence (:class:`Result`);
- ``client.direct(model, input, gateway=url)``: a direct paid call to a node's gateway,
  paid by a voucher on a payment channel the client opens (or tops up) by itself on a
  ``402`` (:class:`opg.gateway.DirectAnswer`);
- ``client.verify(answer)``: every check of an answer's evidence that a client can make
  alone, each named in the :class:`Verdict` (node key registered, signature over the exact
  message, Groth16 proof against the model's verifying key, batch inclusion, the node's
  attestation at the time for TEE results);
- ``client.channels`` (:class:`Channels`) and ``client.nodes`` (:class:`Nodes`).

Failed extrinsics raise :class:`ChainError` with the pallet's error name
(``"channels.DepositTooLow"``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import httpx

from opg import evidence, gateway as gw, groth16, messages

#: One OPG (18 decimals).
OPG = 10**18
#: Verification-mode flags of the model hub and node registry.
MODES = {"Vanilla": 0b001, "Tee": 0b010, "Zkml": 0b100}
#: Role flags of the node registry.
ROLES = {"Inference": 0b001, "Data": 0b010, "Verifier": 0b100}
#: The runtime's ``ChannelMinDeposit`` while governance has not set it.
DEFAULT_MIN_DEPOSIT = OPG
#: Blocks a channel the client opens stays open at least (about 6 hours at 6 s a block).
CHANNEL_BLOCKS = 3600


class ChainError(Exception):
    """An extrinsic failed (``name``: ``pallet.Error``) or the chain refused a call."""

    def __init__(self, name: str, detail: str = ""):
        super().__init__(f"{name}: {detail}" if detail else name)
        self.name = name
        self.detail = detail


class EvidenceError(Exception):
    """An answer whose evidence does not hold: :attr:`verdict` says which check failed."""

    def __init__(self, verdict: "Verdict"):
        super().__init__(str(verdict))
        self.verdict = verdict


@dataclass(frozen=True)
class Check:
    """One check of an answer: its name, whether it held, and what was compared."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class Verdict:
    """The checks of one answer; true when every one held."""

    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return "verified: " + ", ".join(check.name for check in self.checks)
        if not self.checks:
            return "not verified: nothing to check"
        return "NOT verified: " + "; ".join(
            f"{check.name} failed ({check.detail})" if check.detail else f"{check.name} failed"
            for check in self.failures)


@dataclass
class Model:
    """A model of the hub: id, name, version, format, artifact hash and size, price and
    verification modes (flags of :data:`MODES`), owner, and the raw record."""

    id: int
    name: str
    version: str
    format: str
    hash: bytes
    size: int
    price: int
    modes: int
    owner: str
    record: dict

    @property
    def mode_names(self) -> list[str]:
        return [name for name, flag in MODES.items() if self.modes & flag]


@dataclass
class Result:
    """A settled on-chain request (``inference_result``) with what the client sent."""

    id: int
    model: int | None
    mode: str
    node: bytes
    model_hash: bytes
    input_hash: bytes
    output: bytes | None
    output_hash: bytes
    paid: int
    protocol_fee: int
    at: int
    evidence: dict
    input: bytes | None = None

    @classmethod
    def from_rpc(cls, value: dict, *, model: int | None = None, input_: bytes | None = None) -> "Result":
        output = value["output"]
        return cls(
            id=int(value["id"]), model=model, mode=value["mode"], node=messages.hash32(value["node"]),
            model_hash=messages.hash32(value["modelHash"]), input_hash=messages.hash32(value["inputHash"]),
            output=messages.raw_bytes(output["inline"]) if "inline" in output else None,
            output_hash=messages.hash32(value["outputHash"]), paid=int(value["paid"]),
            protocol_fee=int(value["protocolFee"]), at=int(value["at"]), evidence=value["evidence"], input=input_)


def keypair(signer):
    """A substrate-interface ``Keypair`` from one, or from a secret URI (sr25519)."""
    from substrateinterface import Keypair

    if signer is None or isinstance(signer, Keypair):
        return signer
    if isinstance(signer, str):
        return Keypair.create_from_uri(signer)
    raise TypeError("a signer is a substrateinterface.Keypair or a secret URI such as '//Bob'")


def node_keypair(key):
    """A node's sr25519 ``Keypair``: one, a secret URI (``//OpgDevNode``), or the 0x-hex
    32-byte seed that ``opg-executor --node-key`` reads."""
    from substrateinterface import Keypair

    if isinstance(key, Keypair):
        return key
    if isinstance(key, str) and key.startswith("0x") and len(key) == 66:
        return Keypair.create_from_seed(key)
    if isinstance(key, str):
        return Keypair.create_from_uri(key)
    raise TypeError("a node key is a Keypair, a secret URI or a 0x-hex seed")


def _text(value) -> str:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:]).decode()
        except (ValueError, UnicodeDecodeError):
            return value
    if isinstance(value, (bytes, list)):
        return bytes(value).decode(errors="replace")
    return str(value)


def _hex(value) -> bytes:
    if isinstance(value, (list, tuple)):
        return bytes(value)
    return messages.raw_bytes(value)


def _enum(value) -> str:
    """A unit enum variant's name as substrate-interface decodes it (str or {name: None})."""
    if isinstance(value, dict):
        return next(iter(value))
    return str(value)


class Client:
    """A connection to an OPG node at ``url`` (``ws://...``) signing as ``signer``."""

    def __init__(self, url: str = "ws://127.0.0.1:9944", signer=None, *, gateway: str | None = None,
                 substrate=None):
        from substrateinterface import SubstrateInterface

        self.url = url
        self.substrate = substrate or SubstrateInterface(url=url, ss58_format=42)
        self.signer = keypair(signer)
        self.genesis = messages.hash32(self.substrate.get_block_hash(0))
        self.gateway_url = gateway
        self.models = Models(self)
        self.channels = Channels(self)
        self.nodes = Nodes(self)
        self._gateways: dict[str, gw.Gateway] = {}

    def close(self) -> None:
        for gateway in self._gateways.values():
            gateway.close()
        self.substrate.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_) -> None:
        self.close()

    # The chain.

    def query(self, module: str, storage: str, params=(), *, at: bytes | None = None):
        """A storage value as substrate-interface decodes it, or ``None``."""
        block = "0x" + at.hex() if at else None
        return self.substrate.query(module, storage, list(params), block_hash=block).value

    def rpc(self, method: str, *params):
        """One of the node's own JSON-RPC methods; :class:`ChainError` on an error."""
        from substrateinterface.exceptions import SubstrateRequestException

        try:
            answer = self.substrate.rpc_request(method, list(params))
        except SubstrateRequestException as e:
            answer = {"error": e.args[0] if e.args and isinstance(e.args[0], dict) else {"message": str(e)}}
        if answer.get("error"):
            error = answer["error"]
            raise ChainError(f"rpc {method}", f"{error.get('message')} (code {error.get('code')})")
        return answer.get("result")

    def submit(self, module: str, function: str, params: dict, signer=None) -> list[dict]:
        """Signs and sends ``module.function(params)``; its events once in a block, or
        :class:`ChainError` with the pallet error's name."""
        from substrateinterface.exceptions import SubstrateRequestException

        signer = keypair(signer) or self.signer
        if signer is None:
            raise ChainError("no signer", "give Client(signer=...) to send transactions")
        call = self.substrate.compose_call(call_module=module, call_function=function, call_params=params)
        extrinsic = self.substrate.create_signed_extrinsic(call=call, keypair=signer)
        try:
            receipt = self.substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
        except SubstrateRequestException as e:
            raise ChainError(f"{module}.{function} refused", str(e)) from None
        if not receipt.is_success:
            error = receipt.error_message or {}
            if isinstance(error, dict) and error.get("type") == "Module":
                module_name = _error_module(error, module)
                raise ChainError(f"{module_name}.{error.get('name')}", " ".join(error.get("docs") or []))
            raise ChainError(f"{module}.{function} failed", str(error))
        return [event.value["event"] for event in receipt.triggered_events]

    @staticmethod
    def event(events: list[dict], module: str, name: str) -> dict:
        """The attributes of the first ``module.name`` event of ``events``."""
        for event in events:
            if event["module_id"] == module and event["event_id"] == name:
                return event["attributes"]
        raise ChainError("missing event", f"{module}.{name} was not emitted")

    def best_number(self) -> int:
        return int(self.substrate.get_block_header()["header"]["number"])

    # On-chain inference.

    def request(self, model: int, input_: bytes, *, mode: str = "Vanilla", settlement: str = "Individual",
                max_fee: int | None = None, window: int = 20) -> int:
        """Requests an inference of model ``model`` on ``input_``; the request's id."""
        record = self.models.get(model)
        fee = max_fee if max_fee is not None else max(record.price, 1)
        events = self.submit("Inference", "request", {
            "model": model, "input": {"Inline": "0x" + input_.hex()}, "mode": mode,
            "settlement": settlement, "max_fee": fee, "window": window,
        })
        return int(self.event(events, "Inference", "RequestSubmitted")["request"])

    def result(self, request: int, *, model: int | None = None, input_: bytes | None = None) -> Result | None:
        """Request ``request``'s settled result with its evidence, or ``None`` while open."""
        value = self.rpc("inference_result", request)
        return Result.from_rpc(value, model=model, input_=input_) if value else None

    def infer(self, model: int, input_: bytes, *, mode: str = "Vanilla", settlement: str = "Individual",
              max_fee: int | None = None, window: int = 20, timeout: float = 180.0, verify: bool = True,
              progress=None) -> Result:
        """Requests an inference on chain and waits until it is settled; with ``verify``
        (the default) checks its evidence and raises :class:`EvidenceError` if it fails.
        ``progress(text)`` is told each step."""
        say = progress or (lambda _text: None)
        request = self.request(model, input_, mode=mode, settlement=settlement, max_fee=max_fee, window=window)
        say(f"request {request} in a block; waiting for its node to settle it")
        deadline = time.monotonic() + timeout
        while True:
            result = self.result(request, model=model, input_=input_)
            if result is not None:
                break
            if time.monotonic() > deadline:
                raise ChainError("not settled", f"request {request} not settled after {timeout:.0f} s")
            time.sleep(1.0)
        say(f"request {request} settled in block {result.at}")
        if verify:
            verdict = self.verify(result)
            if not verdict:
                raise EvidenceError(verdict)
        return result

    # Direct paid calls.

    def gateway(self, url: str | None = None) -> gw.Gateway:
        url = url or self.gateway_url
        if not url:
            raise ChainError("no gateway", "give Client(gateway=url) or gateway=url")
        if url not in self._gateways:
            self._gateways[url] = gw.Gateway(url, self.genesis)
        return self._gateways[url]

    def direct(self, model, input_: bytes, *, gateway: str | None = None, deposit: int | None = None,
               verify: bool = True) -> gw.DirectAnswer:
        """Calls ``model`` (an id, or a model hash) at a node's gateway and returns the
        answer at once. On a ``402`` it pays: a voucher on this client's channel to the
        node the offer names, opened (``deposit``, by default 100 calls' price) or topped up
        first if needed. With ``verify`` the evidence is checked against the registry's
        node key and :class:`EvidenceError` raised if it fails."""
        model_hash = self.models.get(model).hash if isinstance(model, int) else messages.hash32(model)
        http = self.gateway(gateway)
        try:
            answer = http.infer(model_hash, input_)
        except gw.PaymentRequired as required:
            answer = self._pay(http, model_hash, input_, required.offer, deposit)
        if verify:
            verdict = self.verify(answer)
            if not verdict:
                raise EvidenceError(verdict)
        return answer

    def _pay(self, http: gw.Gateway, model_hash: bytes, input_: bytes, offer: gw.Offer,
             deposit: int | None) -> gw.DirectAnswer:
        if offer.network != self.genesis:
            raise ChainError("wrong network", f"the gateway sells on chain 0x{offer.network.hex()}, "
                                              f"this client is on 0x{self.genesis.hex()}")
        channel = self.channels.for_node(offer.node, offer.amount, deposit)
        for attempt in range(2):
            cumulative = channel.spent + offer.amount
            if cumulative > channel.deposit:
                self.channels.top_up(channel.id, max(deposit or 0, 100 * offer.amount, cumulative - channel.deposit))
            voucher = gw.voucher_header(self.signer, self.genesis, channel.id, cumulative,
                                        gw.infer_path(model_hash), input_)
            try:
                answer = http.infer(model_hash, input_, voucher)
            except gw.PaymentRequired as refused:
                if attempt == 0 and refused.offer.error in ("above_deposit", "below_price"):
                    offer = refused.offer
                    continue
                raise
            channel.spent = answer.cumulative
            return answer
        raise AssertionError("unreachable")

    def chat(self, model, messages_: list[dict], *, stream: bool = False, gateway: str | None = None,
             deposit: int | None = None, max_tokens: int = 256, verify: bool = True, **params):
        """Asks language model ``model`` (its name at the gateway, or its model hub id)
        ``messages_`` (OpenAI's chat messages) at a node's gateway; ``params`` are
        OpenAI's (``temperature``, ``seed``, ``stop``...). A priced model's ``402`` is paid
        as :meth:`direct` pays, the voucher authorizing the prompt and ``max_tokens``
        tokens at the offer's price per token (the call is charged what it used).

        Returns an :class:`opg.gateway.LlmAnswer`, or with ``stream`` a
        :class:`opg.gateway.ChatStream` of the answer's pieces whose evidence is checked
        when it ends (:class:`EvidenceError` then, if it fails)."""
        name = self.models.get(model).name if isinstance(model, int) else str(model)
        request = {"model": name, "messages": messages_, "max_tokens": max_tokens, **params}
        http = self.gateway(gateway)
        call = http.chat_stream if stream else http.chat
        ended = None
        try:
            answer = call(request)
        except gw.PaymentRequired as required:
            channel, pay = self._token_voucher(required.offer, max_tokens, deposit)
            answer = call(request, pay)
            if stream:
                ended = lambda done: self._charged(channel, done)  # noqa: E731
            else:
                self._charged(channel, answer)
        if stream:
            return _Checked(answer, self if verify else None, ended)
        if verify:
            verdict = self.verify(answer)
            if not verdict:
                raise EvidenceError(verdict)
        return answer

    def _token_voucher(self, offer: gw.Offer, max_tokens: int, deposit: int | None):
        """For a language model's ``402``: this client's channel to the offering node
        (opened or topped up to cover the call) and ``pay(path, body)``, the voucher
        authorizing the prompt and ``max_tokens`` tokens at the offer's price."""
        if offer.network != self.genesis:
            raise ChainError("wrong network", f"the gateway sells on chain 0x{offer.network.hex()}")
        channel = self.channels.for_node(offer.node, offer.amount, deposit)
        cap = offer.amount + (offer.price_per_token or 0) * max_tokens
        if channel.spent + cap > channel.deposit:
            self.channels.top_up(channel.id, max(deposit or 0, channel.spent + cap - channel.deposit))

        def pay(path: str, body: bytes) -> str:
            return gw.voucher_header(self.signer, self.genesis, channel.id, channel.spent + cap, path, body)

        return channel, pay

    def openai_client(self, model=None, *, gateway: str | None = None, deposit: int | None = None, **options):
        """An ``openai.OpenAI`` client (``pip install ./sdk/python[openai]``) of a node's
        gateway that pays a priced model's calls through this client's channel and checks
        every chat answer's evidence before the caller sees any of it: a streamed answer is
        received whole, checked, then handed over; one whose check fails raises
        :class:`EvidenceError` from the ``create`` call.
        ``model`` is only a convenience: ``client.model`` names it for the caller."""
        from openai import OpenAI

        url = (gateway or self.gateway_url or "").rstrip("/")
        if not url:
            raise ChainError("no gateway", "give Client(gateway=url) or gateway=url")
        http = httpx.Client(transport=_PayingTransport(self, deposit), timeout=options.pop("timeout", 120.0))
        openai = OpenAI(base_url=url + "/v1", api_key=options.pop("api_key", "opg"), http_client=http, **options)
        if model is not None:
            openai.model = self.models.get(model).name if isinstance(model, int) else str(model)
        return openai

    @staticmethod
    def _charged(channel: "Channel", answer: gw.LlmAnswer | None) -> None:
        if answer is not None and answer.payment:
            channel.spent = int(answer.payment["cumulative"])

    # Evidence.

    def verify(self, answer) -> Verdict:
        """Every check a client can make of ``answer`` (a :class:`Result` or a
        :class:`opg.gateway.DirectAnswer`) against the chain's records."""
        if isinstance(answer, gw.DirectAnswer):
            return self._verify_direct(answer)
        if isinstance(answer, Result):
            return self._verify_result(answer)
        if isinstance(answer, gw.LlmAnswer):
            return self._verify_llm(answer)
        raise TypeError("verify takes a Result, a DirectAnswer or an LlmAnswer")

    def _node_check(self, verdict: Verdict, node: bytes, mode: str, at: int | None = None) -> None:
        record = self.nodes.get(node)
        if not verdict.add("node registered", record is not None, f"0x{node.hex()} is not in the node registry"):
            return
        if mode == "Tee":
            block = self.substrate.get_block_hash(at) if at is not None else None
            attestation = self.query("NodeRegistry", "Attestations", ["0x" + node.hex()],
                                     at=messages.hash32(block) if block else None)
            held = attestation is not None and (
                at is None or int(attestation["attested_at"]) <= at <= int(attestation["expires_at"]))
            verdict.add("node attested", held, f"no attestation of 0x{node.hex()} valid at block {at}")

    def _verify_direct(self, answer: gw.DirectAnswer) -> Verdict:
        verdict = Verdict()
        node = answer.node
        if not verdict.add("node named", node is not None, "the answer names no node key"):
            return verdict
        self._node_check(verdict, node, "Vanilla")
        verdict.add("network", answer.genesis == self.genesis, "the answer is for another chain")
        verdict.add("signature", answer.verify(node),
                    "the node key's signature is not over this call, response and amount")
        return verdict

    def _verify_llm(self, answer: gw.LlmAnswer) -> Verdict:
        verdict = Verdict()
        node = answer.node
        if not verdict.add("node named", node is not None and answer.signature is not None,
                           "the answer carries no node key or signature"):
            return verdict
        self._node_check(verdict, node, "Vanilla")
        published = answer.model_hash is not None and any(
            model.hash == answer.model_hash for model in self.models.list())
        verdict.add("model published", published, "the answer's model hash is no model hub model's")
        verdict.add("signature", answer.verify(node),
                    "the node key's signature is not over this request, text, seed and amount on this chain")
        return verdict

    def _verify_result(self, result: Result) -> Verdict:
        verdict = Verdict()
        if result.input is not None:
            verdict.add("input", hashlib.sha256(result.input).digest() == result.input_hash,
                        "the settled input hash is not the input's")
        if result.model is not None:
            model = self.models.get(result.model)
            verdict.add("model", model.hash == result.model_hash,
                        f"settled for model 0x{result.model_hash.hex()}, model {result.model} is 0x{model.hash.hex()}")
        if result.output is not None:
            verdict.add("output", hashlib.sha256(result.output).digest() == result.output_hash,
                        "the output is not the settled output hash")
        self._node_check(verdict, result.node, result.mode, result.at)
        proof = result.evidence
        if "signature" in proof:
            verdict.add("signature", evidence.verify_result(
                genesis=self.genesis, request=result.id, model_hash=result.model_hash, input_hash=result.input_hash,
                output_hash=result.output_hash, signature=proof["signature"], node=result.node),
                "the node key's signature is not over this result")
        elif "batch" in proof:
            batch = self.rpc("inference_batchProof", result.id)
            ok = batch is not None and messages.hash32(batch["node"]) == result.node and evidence.verify_batch_inclusion(
                genesis=self.genesis, request=result.id, input_hash=result.input_hash, output_hash=result.output_hash,
                root=batch["root"], leaf_count=int(batch["leafCount"]), index=int(batch["index"]),
                siblings=batch["siblings"], signature=batch["signature"], node=result.node)
            verdict.add("batch inclusion", ok, "the result is not under its batch's root signed by its node")
        else:
            verdict.add("evidence", False, "no signature and no batch")
        if result.mode == "Zkml":
            verdict.add("proof", *self._check_proof(result))
        return verdict

    def _zkml_model(self, result: Result) -> tuple[int | None, str]:
        """The model whose verifying key checks ``result``'s proof: the one the client
        named, else the only published model of the settled artifact hash with a key (a
        settled record keeps the hash, not the model's id)."""
        if result.model is not None:
            return result.model, ""
        candidates = [model.id for model in self.models.list()
                      if model.hash == result.model_hash and self.models.verifying_key(model.id) is not None]
        if len(candidates) == 1:
            return candidates[0], ""
        if not candidates:
            return None, "no published model of this artifact has a verifying key"
        return None, f"models {candidates} share this artifact: name the model (--model)"

    def _check_proof(self, result: Result) -> tuple[bool, str]:
        proof = result.evidence.get("proof")
        if proof is None or result.output is None:
            return False, "the result carries no proof or no inline output"
        model, why = self._zkml_model(result)
        if model is None:
            return False, why
        key = self.models.verifying_key(model)
        if key is None:
            return False, f"model {model} has no verifying key"
        if result.input is not None:
            inputs = groth16.statement(genesis=self.genesis, request=result.id, node=result.node,
                                       input_=result.input, output=result.output)
        else:
            commitment = self.query("Inference", "InputCommitments", [result.id])
            if commitment is None:
                return False, "the input is unknown (give it) and the chain keeps no commitment to it"
            inputs = groth16.statement(genesis=self.genesis, request=result.id, node=result.node,
                                       commitment=int.from_bytes(_hex(commitment), "little"), output=result.output)
        failed = f"the Groth16 proof does not verify under model {model}'s key for this input, output, request and node"
        try:
            ok = groth16.verify(groth16.decode_key(key), groth16.decode_proof(messages.raw_bytes(proof)), inputs)
        except groth16.DecodeError as e:
            return False, f"the proof or key does not decode: {e}"
        return ok, "" if ok else failed


def _bounded(items) -> list:
    """A ``BoundedVec<T>`` argument (``T`` not ``u8``) as substrate-interface encodes it:
    its metadata type is a one-field tuple around the ``Vec<T>``, and scalecodec takes a
    plain list as that tuple's fields ("Provided value is not a list"); the list wrapped
    once more is the one field."""
    return [list(items)]


def _error_module(error: dict, fallback: str) -> str:
    # substrate-interface names the failing pallet by its metadata index; the docs name
    # the error, and the call's module is the usual owner.
    return error.get("module", fallback) if isinstance(error.get("module"), str) else fallback


class _PayingTransport(httpx.BaseTransport):
    """httpx transport of :meth:`Client.openai_client`: pays a ``402`` of a chat call with
    a voucher over the exact body, and hands a chat answer over only once its evidence is
    checked."""

    def __init__(self, client: Client, deposit: int | None, inner: httpx.BaseTransport | None = None):
        self.client = client
        self.deposit = deposit
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith(gw.CHAT_COMPLETIONS_PATH):
            return self.inner.handle_request(request)
        body = request.read()
        response = self.inner.handle_request(request)
        channel = None
        if response.status_code == 402 and gw.REQUIRED_HEADER in response.headers:
            response.read()
            offer = gw.Offer.from_header(response.headers[gw.REQUIRED_HEADER])
            max_tokens = json.loads(body).get("max_tokens") or 256
            channel, pay = self.client._token_voucher(offer, int(max_tokens), self.deposit)
            request.headers[gw.PAYMENT_HEADER] = pay(request.url.path, body)
            response = self.inner.handle_request(request)
        if response.status_code != 200:
            return response
        content = response.read()
        if json.loads(body).get("stream"):
            stream = gw.ChatStream(self.client.genesis, body, httpx.Response(200, content=content))
            for _ in stream:
                pass
            answer = stream.answer
        else:
            value = json.loads(content)
            answer = gw.LlmAnswer.of(self.client.genesis, request.url.path, body,
                                     value["choices"][0]["message"]["content"], value.get("opg") or {}, value)
        if channel is not None:
            self.client._charged(channel, answer)
        verdict = self.client.verify(answer) if answer is not None else Verdict(
            [Check("evidence", False, "the answer carries no evidence")])
        if not verdict:
            raise EvidenceError(verdict)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding",
                                                                                       "transfer-encoding")]
        return httpx.Response(200, headers=headers, content=content, request=request)

    def close(self) -> None:
        self.inner.close()


class _Checked:
    """A chat stream that, once it ends, tells ``ended`` its answer (a paid call records
    the charged total) and has ``client`` check its evidence (``None``: unchecked)."""

    def __init__(self, stream: gw.ChatStream, client: Client | None, ended=None):
        self.stream = stream
        self.client = client
        self.ended = ended
        self.verdict: Verdict | None = None

    @property
    def answer(self) -> gw.LlmAnswer | None:
        return self.stream.answer

    @property
    def finish_reason(self) -> str | None:
        """Why the answer ended (``stop``, ``length``), from its last chunk."""
        return self.stream.finish_reason

    def __iter__(self):
        yield from self.stream
        if self.ended is not None:
            self.ended(self.stream.answer)
        if self.client is not None:
            if self.stream.answer is None:
                self.verdict = Verdict([Check("evidence", False, "the stream ended without its evidence")])
            else:
                self.verdict = self.client.verify(self.stream.answer)
            if not self.verdict:
                raise EvidenceError(self.verdict)


class Models:
    """The model hub."""

    def __init__(self, client: Client):
        self.client = client

    def _model(self, id_: int, record: dict) -> Model:
        spec = record["spec"]
        version = spec["version"]
        return Model(
            id=int(id_), name=_text(spec["name"]),
            version=f"{version['major']}.{version['minor']}.{version['patch']}",
            format=_enum(spec["format"]), hash=_hex(spec["artifact"]["hash"]), size=int(spec["artifact"]["size"]),
            price=int(spec["price"]), modes=int(spec["modes"]), owner=str(record.get("owner", "")), record=record)

    def get(self, id_: int) -> Model:
        """Model ``id_``; :class:`ChainError` if there is none."""
        record = self.client.query("ModelHub", "Models", [id_])
        if record is None:
            raise ChainError("modelHub.UnknownModel", f"no model {id_}")
        return self._model(id_, record)

    def list(self) -> list[Model]:
        """Every model of the hub, by id."""
        entries = self.client.substrate.query_map("ModelHub", "Models", page_size=200)
        return sorted((self._model(key.value, value.value) for key, value in entries), key=lambda m: m.id)

    def verifying_key(self, id_: int) -> bytes | None:
        """The Groth16 verifying key published with model ``id_`` (arkworks compressed)."""
        key = self.client.query("ModelHub", "VerifyingKeys", [id_])
        return _hex(key) if key is not None else None

    def publish(self, *, name: str, artifact_hash, size: int, format: str = "QuantizedInteger",
                schema: dict, price: int = OPG, modes: int = MODES["Vanilla"], version: str = "1.0.0",
                verifying_key: bytes | None = None, locator: str = "opg-executor artifact store") -> int:
        """Publishes a model whose artifact (``artifact_hash``, ``size`` bytes) its nodes
        hold; ``schema`` ``{"inputs": [{"shape": [...], "dtype": "I8"}], "outputs": [...]}``.
        The new model's id."""
        major, minor, patch = (int(part) for part in version.split("."))

        def tensor(spec: dict) -> dict:
            return {"shape": _bounded(spec["shape"]), "dtype": spec["dtype"],
                    "quantization": spec.get("quantization")}

        spec = {
            "name": name, "version": {"major": major, "minor": minor, "patch": patch}, "format": format,
            "artifact": {"hash": "0x" + messages.hash32(artifact_hash).hex(), "size": size, "locator": locator},
            "schema": {"inputs": _bounded([tensor(t) for t in schema["inputs"]]),
                       "outputs": _bounded([tensor(t) for t in schema["outputs"]])},
            "price": price, "modes": modes,
        }
        key = "0x" + verifying_key.hex() if verifying_key is not None else None
        events = self.client.submit("ModelHub", "publish", {"spec": spec, "verifying_key": key})
        return int(self.client.event(events, "ModelHub", "ModelPublished")["model"])


@dataclass
class Channel:
    """A payment channel as this client tracks it: ``spent`` is the charged total the
    last paid answer reported (the next voucher's cumulative amount builds on it)."""

    id: int
    node: bytes
    deposit: int
    spent: int = 0


class Channels:
    """Payment channels from the client's account (pallet ``Channels``)."""

    def __init__(self, client: Client):
        self.client = client
        self.open_channels: dict[bytes, Channel] = {}

    def open(self, node, deposit: int, *, blocks: int = CHANNEL_BLOCKS) -> Channel:
        """Opens a channel of ``deposit`` to ``node`` (its key) for ``blocks`` blocks."""
        node = messages.hash32(node)
        expiry = self.client.best_number() + blocks
        events = self.client.submit("Channels", "open", {"node": "0x" + node.hex(), "deposit": deposit,
                                                         "expiry": expiry})
        channel = Channel(int(self.client.event(events, "Channels", "Opened")["channel"]), node, deposit)
        self.open_channels[node] = channel
        return channel

    def for_node(self, node, price: int, deposit: int | None = None) -> Channel:
        """This client's channel to ``node``, opened with ``deposit`` (by default 100
        calls at ``price``, at least the chain's minimum) if it has none."""
        node = messages.hash32(node)
        if node in self.open_channels:
            return self.open_channels[node]
        return self.open(node, max(deposit or 100 * price, self.min_deposit()))

    def min_deposit(self) -> int:
        """The least a channel opens with: governance parameter ``ChannelMinDeposit``
        (0 if this client cannot read it: ``open`` then says ``DepositTooLow``)."""
        try:
            value = self.client.query("Parameters", "Parameters", [{"Protocol": {"ChannelMinDeposit": None}}])
        except Exception:  # noqa: BLE001 - an older runtime or another parameter layout
            return 0
        if value is None:
            return DEFAULT_MIN_DEPOSIT
        # {"Protocol": {"ChannelMinDeposit": amount}}
        found = value
        while isinstance(found, dict):
            found = next(iter(found.values()))
        return int(found) if isinstance(found, int) else DEFAULT_MIN_DEPOSIT

    def top_up(self, channel: int, amount: int) -> None:
        self.client.submit("Channels", "top_up", {"channel": channel, "amount": amount})
        for tracked in self.open_channels.values():
            if tracked.id == channel:
                tracked.deposit += amount

    def close(self, channel: int) -> int:
        """Starts closing ``channel``: the block from which :meth:`withdraw` refunds."""
        events = self.client.submit("Channels", "close", {"channel": channel})
        self.open_channels = {k: v for k, v in self.open_channels.items() if v.id != channel}
        return int(self.client.event(events, "Channels", "Closing")["closes_at"])

    def withdraw(self, channel: int) -> int:
        """Refunds what ``channel`` did not spend, once closed (or expired); the refund."""
        events = self.client.submit("Channels", "withdraw", {"channel": channel})
        return int(self.client.event(events, "Channels", "Withdrawn")["refund"])

    def get(self, channel: int) -> dict | None:
        return self.client.query("Channels", "OpenChannels", [channel])


class Nodes:
    """The node registry."""

    def __init__(self, client: Client):
        self.client = client

    def get(self, node) -> dict | None:
        """Node ``node``'s (its key) record, or ``None`` if it is not registered."""
        return self.client.query("NodeRegistry", "Nodes", ["0x" + messages.hash32(node).hex()])

    def attestation(self, node) -> dict | None:
        return self.client.query("NodeRegistry", "Attestations", ["0x" + messages.hash32(node).hex()])

    @staticmethod
    def capabilities(models: list[int], modes: int, *, endpoint: str = "", hardware: str = "Cpu",
                     gpu_model: str = "", gpu_memory_mib: int = 0, jobs_per_block: int = 1000) -> dict:
        """A node's ``Capabilities`` as ``register`` and ``update_capabilities`` take them."""
        return {"models": _bounded(models), "modes": modes,
                "hardware": {"class": hardware, "gpu_model": gpu_model, "gpu_memory_mib": gpu_memory_mib},
                "endpoint": endpoint, "jobs_per_block": jobs_per_block}

    def register(self, node_key, models: list[int], modes: int, bond: int, *, roles: int = ROLES["Inference"],
                 **capabilities) -> bytes:
        """Registers ``node_key`` (the node's own sr25519 ``Keypair``, or its secret URI or
        0x-hex seed: it signs that this client's account operates it) with ``bond`` held
        from the client's account; the node key's public key."""
        node = node_keypair(node_key)
        operator = self.client.signer
        if operator is None:
            raise ChainError("no signer", "the operator's account signs a registration")
        proof = node.sign(messages.registration(self.client.genesis, operator.public_key))
        self.client.submit("NodeRegistry", "register", {
            "node": "0x" + node.public_key.hex(), "roles": roles,
            "capabilities": self.capabilities(models, modes, **capabilities), "bond": bond,
            "signature": "0x" + bytes(proof).hex()})
        return node.public_key

    def update_capabilities(self, node, models: list[int], modes: int, **capabilities) -> None:
        """Replaces what operated node ``node`` (its key) serves."""
        self.client.submit("NodeRegistry", "update_capabilities", {
            "node": "0x" + messages.hash32(node).hex(),
            "capabilities": self.capabilities(models, modes, **capabilities)})


class AsyncClient:
    """The async twin of :class:`Client`: the same calls as coroutines.

    substrate-interface is synchronous, so each chain or gateway call runs in a worker
    thread, one at a time per client (they share one WebSocket); waiting for a settlement
    (:meth:`infer`) releases the client between polls, so other calls go on meanwhile.
    Open one with ``client = await AsyncClient.connect(url, signer, gateway=...)``.
    """

    def __init__(self, client: Client):
        import asyncio

        self.sync = client
        self._lock = asyncio.Lock()
        self.models = _AsyncPart(self, client.models)
        self.channels = _AsyncPart(self, client.channels)
        self.nodes = _AsyncPart(self, client.nodes)

    @classmethod
    async def connect(cls, url: str = "ws://127.0.0.1:9944", signer=None, **options) -> "AsyncClient":
        import asyncio

        return cls(await asyncio.to_thread(Client, url, signer, **options))

    async def _run(self, function, *args, **kwargs):
        import asyncio

        async with self._lock:
            return await asyncio.to_thread(function, *args, **kwargs)

    @property
    def genesis(self) -> bytes:
        return self.sync.genesis

    async def close(self) -> None:
        await self._run(self.sync.close)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *_) -> None:
        await self.close()

    async def request(self, model: int, input_: bytes, **options) -> int:
        return await self._run(self.sync.request, model, input_, **options)

    async def result(self, request: int, **options) -> Result | None:
        return await self._run(self.sync.result, request, **options)

    async def infer(self, model: int, input_: bytes, *, mode: str = "Vanilla", settlement: str = "Individual",
                    max_fee: int | None = None, window: int = 20, timeout: float = 180.0,
                    verify: bool = True) -> Result:
        """As :meth:`Client.infer`."""
        import asyncio

        request = await self.request(model, input_, mode=mode, settlement=settlement, max_fee=max_fee, window=window)
        deadline = time.monotonic() + timeout
        while (result := await self.result(request, model=model, input_=input_)) is None:
            if time.monotonic() > deadline:
                raise ChainError("not settled", f"request {request} not settled after {timeout:.0f} s")
            await asyncio.sleep(1.0)
        if verify:
            verdict = await self.verify(result)
            if not verdict:
                raise EvidenceError(verdict)
        return result

    async def direct(self, model, input_: bytes, **options) -> gw.DirectAnswer:
        """As :meth:`Client.direct`."""
        return await self._run(self.sync.direct, model, input_, **options)

    async def verify(self, answer) -> Verdict:
        """As :meth:`Client.verify`."""
        return await self._run(self.sync.verify, answer)


class _AsyncPart:
    """:class:`Client`'s ``models``, ``channels`` or ``nodes``, their methods as coroutines."""

    def __init__(self, owner: AsyncClient, part):
        self._owner = owner
        self._part = part

    def __getattr__(self, name: str):
        attribute = getattr(self._part, name)
        if not callable(attribute):
            return attribute

        async def call(*args, **kwargs):
            return await self._owner._run(attribute, *args, **kwargs)

        call.__doc__ = attribute.__doc__
        return call
