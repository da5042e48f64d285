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

import httpx

from opg import evidence, gateway as gw, groth16, messages
from opg.hub import Channels, Honeypots, Models, Nodes, Verification, _hex, keypair, node_keypair  # noqa: F401 - re-exported
from opg.types import (  # noqa: F401 - re-exported: opg.client is the SDK's front door
    CHANNEL_BLOCKS, DEFAULT_MIN_DEPOSIT, MODES, OPG, ROLES, Channel, ChainError, Check, EvidenceError, Model,
    Result, Verdict,
)


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
        self.verification = Verification(self)
        self.honeypots = Honeypots(self)
        self._gateways: dict[str, gw.Gateway] = {}
        self._runtime_version = None

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

    def runtime_call(self, api: str, method: str, params=(), *, at: bytes | None = None):
        """A runtime API call, decoded: OPG's ``InferenceApi``, ``ChannelsApi`` and
        ``ModelHubApi`` (which substrate-interface does not know: the SDK registers them,
        :mod:`opg.runtime_api`) or any the registry knows. ``None`` for an empty ``Option``."""
        from opg import runtime_api

        self.substrate.init_runtime()
        if self._runtime_version != self.substrate.runtime_version:
            runtime_api.register(self.substrate)
            self._runtime_version = self.substrate.runtime_version
        block = "0x" + at.hex() if at else None
        return self.substrate.runtime_call(api, method, list(params), block_hash=block).value

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
                # substrate-interface's error names no pallet: the called one is named (a
                # call wrapped in another, e.g. by Sudo, would name the outer pallet).
                raise ChainError(f"{module}.{error.get('name')}", " ".join(error.get("docs") or []))
            raise ChainError(f"{module}.{function} failed", str(error))
        return [event.value["event"] for event in receipt.triggered_events]

    def submit_unsigned(self, module: str, function: str, params: dict) -> list[dict]:
        """Sends ``module.function(params)`` unsigned (a call the runtime checks by the
        signatures it carries); its events once in a block, or :class:`ChainError`."""
        from substrateinterface.exceptions import SubstrateRequestException

        call = self.substrate.compose_call(call_module=module, call_function=function, call_params=params)
        extrinsic = self.substrate.create_unsigned_extrinsic(call)
        try:
            receipt = self.substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
        except SubstrateRequestException as e:
            raise ChainError(f"{module}.{function} refused", str(e)) from None
        if not receipt.is_success:
            raise ChainError(f"{module}.{function} failed", str(receipt.error_message))
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
        """Requests an inference of model ``model`` on ``input_``; the request's id.

        ``max_fee`` bounds what is held: the model's price and, for vanilla and TEE results,
        the verification surcharge (``verification.parameters().surcharge`` parts per
        billion of the price). By default exactly that."""
        record = self.models.get(model)
        fee = max_fee if max_fee is not None else max(record.price + self.surcharge(record.price, mode), 1)
        events = self.submit("Inference", "request", {
            "model": model, "input": {"Inline": "0x" + input_.hex()}, "mode": mode,
            "settlement": settlement, "max_fee": fee, "window": window,
        })
        return int(self.event(events, "Inference", "RequestSubmitted")["request"])

    def surcharge(self, price: int, mode: str = "Vanilla") -> int:
        """The verification surcharge a request of ``mode`` pays on top of ``price``: none for
        ZKML (a proof needs no check), else the chain's rate, rounded down."""
        if mode == "Zkml":
            return 0
        params = self.query("Verification", "Parameters")
        return price * int(params["surcharge"]) // 1_000_000_000

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


# The async twin, beside the client it wraps.
from opg.aio import AsyncClient  # noqa: E402,F401 - re-exported
