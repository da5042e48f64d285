"""A node's gateway: direct paid calls over HTTP (docs/direct-inference.md).

The names here are the executor's HTTP contract (the Rust crate ``opg_executor_api``:
paths, headers, the ``opg-channel`` scheme and its refusal codes; a test checks them
against that crate's source). A call without a valid voucher is answered ``402`` with
``PAYMENT-REQUIRED`` (:class:`Offer`); a call with ``PAYMENT-SIGNATURE``
(:func:`voucher_header`) is answered at once with ``PAYMENT-RESPONSE`` and the node key's
evidence (:class:`DirectAnswer`, checked by :meth:`DirectAnswer.verify`).

This module holds no chain connection: which channel pays, and opening or topping it up,
is :class:`opg.client.Client`'s job.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import httpx

from opg import evidence, messages

# opg_executor_api::path
INFER_PATH = "/v1/infer"
SERVED_PATH = "/v1/served"
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
HEALTH_PATH = "/health"
# opg_executor_api::header
SIGNATURE_HEADER = "x-opg-signature"
NODE_HEADER = "x-opg-node"
MODEL_HASH_HEADER = "x-opg-model-hash"
SEED_HEADER = "x-opg-seed"
# opg_executor_api::payment
REQUIRED_HEADER = "payment-required"
PAYMENT_HEADER = "payment-signature"
RESPONSE_HEADER = "payment-response"
SCHEME = "opg-channel"
X402_VERSION = 2
#: Every ``error`` code of a ``PAYMENT-REQUIRED`` header (``payment::Refusal::code``).
REFUSALS = (
    "payment_required", "malformed_voucher", "wrong_network", "wrong_signer", "unknown_channel",
    "wrong_payee", "channel_closing", "channel_expired", "not_above_last", "below_price",
    "above_deposit", "voucher_reused",
)

# Variant indices of Substrate's `MultiSignature` (Ed25519, Sr25519, Ecdsa), which are
# also substrate-interface's `KeypairType` values.
_MULTI_SIGNATURE = {0: "Ed25519", 1: "Sr25519"}


def encode_header(value: dict) -> str:
    """A payment header's value: base64 (standard, padded) of compact JSON."""
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def decode_header(text: str) -> dict:
    """The JSON object of a payment header's value; ``ValueError`` if it is not one."""
    try:
        value = json.loads(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as e:
        raise ValueError(f"not a base64 JSON payment header: {e}") from None
    if not isinstance(value, dict):
        raise ValueError("a payment header holds a JSON object")
    return value


def infer_path(model_hash) -> str:
    """The public path of a tensor model's calls, which a voucher's call digest names."""
    return f"{INFER_PATH}/0x{messages.hash32(model_hash).hex()}"


def multi_signature(keypair, message: bytes) -> bytes:
    """The SCALE ``MultiSignature`` of a substrate-interface ``Keypair`` (sr25519 or
    ed25519, the account key types that sign over the raw message) over ``message``."""
    kind = getattr(keypair, "crypto_type", None)
    if kind not in _MULTI_SIGNATURE:
        raise ValueError("vouchers are signed by an sr25519 or ed25519 account key")
    signature = keypair.sign(message)
    if isinstance(signature, str):
        signature = bytes.fromhex(signature.removeprefix("0x"))
    return bytes([kind]) + bytes(signature)


def voucher_header(keypair, genesis, channel: int, cumulative: int, path: str, body: bytes) -> str:
    """The ``PAYMENT-SIGNATURE`` value of ``keypair``'s voucher: ``cumulative`` (the
    channel's charged total after this call) on ``channel`` of chain ``genesis``, paying
    the call of ``path`` with ``body``."""
    message = messages.voucher(genesis, channel, cumulative, messages.call_digest(path, body))
    return encode_header({
        "x402Version": X402_VERSION,
        "scheme": SCHEME,
        "network": "0x" + messages.hash32(genesis).hex(),
        "payload": {
            "channel": str(channel),
            "cumulative": str(cumulative),
            "signature": "0x" + multi_signature(keypair, message).hex(),
        },
    })


@dataclass(frozen=True)
class Offer:
    """What a ``402`` asks: its ``error`` code and the ``opg-channel`` offer."""

    error: str
    network: bytes
    amount: int
    node: bytes
    operator: bytes | None
    model: int | None
    model_hash: bytes
    min_increment: int
    price_per_token: int | None

    @classmethod
    def from_header(cls, text: str) -> "Offer":
        """Parses a ``PAYMENT-REQUIRED`` value; ``ValueError`` names what is missing."""
        required = decode_header(text)
        try:
            offer = next(a for a in required["accepts"] if a.get("scheme") == SCHEME)
            extra = offer["extra"]
            return cls(
                error=str(required["error"]),
                network=messages.hash32(offer["network"]),
                amount=int(offer["amount"]),
                node=messages.hash32(extra["node"]),
                operator=messages.hash32(extra["operator"]) if extra.get("operator") else None,
                model=int(extra["model"]) if extra.get("model") is not None else None,
                model_hash=messages.hash32(extra["modelHash"]),
                min_increment=int(extra.get("minIncrement", offer["amount"])),
                price_per_token=int(extra["pricePerToken"]) if extra.get("pricePerToken") else None,
            )
        except (KeyError, StopIteration, TypeError, ValueError) as e:
            raise ValueError(f"not an {SCHEME} payment offer: {e!r}") from None


class GatewayError(Exception):
    """A gateway answered neither ``200`` nor a ``402`` offer: its status and reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"gateway answered {status}: {reason}")
        self.status = status
        self.reason = reason


class PaymentRequired(Exception):
    """A ``402``: :attr:`offer` says what to pay, ``offer.error`` why this call was refused."""

    def __init__(self, offer: Offer, reason: str):
        super().__init__(f"payment required ({offer.error}): {reason}")
        self.offer = offer
        self.reason = reason


@dataclass
class DirectAnswer:
    """A direct call's answer with its evidence: the node key's signature over
    :func:`opg.messages.direct_answer` of the call, the response and the cumulative amount
    the voucher paid (0 for a free model)."""

    genesis: bytes
    model_hash: bytes
    path: str
    body: bytes
    output: bytes
    node: bytes | None
    signature: bytes | None
    cumulative: int = 0
    charged: int = 0
    channel: int | None = None
    remaining: int | None = None

    @property
    def call_digest(self) -> bytes:
        """The call's digest: what the voucher and the served-call leaf name."""
        return messages.call_digest(self.path, self.body)

    def verify(self, node=None) -> bool:
        """Whether the evidence is the node key's (``node``, by default the key the answer
        names: pass the registry's to check it is that node's) over this exact answer."""
        key = node if node is not None else self.node
        if key is None or self.signature is None:
            return False
        return evidence.verify_direct_answer(
            genesis=self.genesis, model_hash=self.model_hash, path=self.path, body=self.body,
            response=self.output, cumulative=self.cumulative, signature=self.signature, node=key)


@dataclass
class LlmAnswer:
    """A language model's answer with its evidence (the ``opg`` object): the node key's
    signature over :func:`opg.messages.llm_answer` of the exact request body, the text,
    the seed and the voucher's cumulative amount (0 when free)."""

    genesis: bytes
    path: str
    body: bytes
    text: str
    seed: int | None
    cumulative: int
    model_hash: bytes | None
    node: bytes | None
    signature: bytes | None
    payment: dict | None
    response: dict | None = None
    activations: dict | None = None

    @classmethod
    def of(cls, genesis: bytes, path: str, body: bytes, text: str, opg: dict, response: dict | None) -> "LlmAnswer":
        def optional(name):
            value = opg.get(name)
            try:
                return messages.raw_bytes(value) if value else None
            except ValueError:
                return None

        return cls(genesis=genesis, path=path, body=body, text=text,
                   seed=int(opg["seed"]) if opg.get("seed") is not None else None,
                   cumulative=int(opg.get("cumulative") or 0), model_hash=optional("model_hash"),
                   node=optional("node"), signature=optional("signature"), payment=opg.get("payment"),
                   response=response, activations=opg.get("activations"))

    def verify(self, node=None) -> bool:
        """Whether the evidence is the node key's (``node``, by default the one the answer
        names) over this request, text, seed and amount on this client's chain."""
        key = node if node is not None else self.node
        if key is None or self.signature is None or self.model_hash is None or self.seed is None:
            return False
        return evidence.verify_llm_answer(
            genesis=self.genesis, model_hash=self.model_hash, path=self.path, body=self.body, text=self.text,
            seed=self.seed, cumulative=self.cumulative, signature=self.signature, node=key)

    def verify_activations(self, node=None) -> bool:
        """Whether the answer's activation commitments (``activations``: what a verification
        node checks it with) are the node key's, over this request, text and seed."""
        key = node if node is not None else self.node
        a = self.activations
        if key is None or self.model_hash is None or self.seed is None or not isinstance(a, dict):
            return False
        try:
            commitments = [base64.b64decode(c, validate=True) for c in a.get("commitments", [])]
            signature = messages.raw_bytes(a.get("signature") or "")
        except (ValueError, TypeError):
            return False
        return evidence.verify_llm_activations(
            genesis=self.genesis, model_hash=self.model_hash, path=self.path, body=self.body, text=self.text,
            seed=self.seed, tokens=a.get("tokens", []), commitments=commitments, signature=signature, node=key)


class ChatStream:
    """A streamed chat answer: iterating yields the text's pieces as they come; then
    :attr:`answer` holds the whole :class:`LlmAnswer` (``None`` if the stream ended
    without its evidence), and an ``error`` chunk raises :class:`GatewayError`."""

    def __init__(self, genesis: bytes, body: bytes, response: httpx.Response):
        self.genesis = genesis
        self.body = body
        self.response = response
        self.answer: LlmAnswer | None = None
        self.finish_reason: str | None = None

    def __iter__(self):
        pieces, opg = [], None
        try:
            for line in self.response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[len("data: "):]
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    raise GatewayError(200, str(chunk["error"].get("message", chunk["error"])))
                for choice in chunk.get("choices", []):
                    self.finish_reason = choice.get("finish_reason") or self.finish_reason
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        pieces.append(piece)
                        yield piece
                if "opg" in chunk:
                    opg = chunk["opg"]
        finally:
            self.response.close()
        if opg is not None:
            self.answer = LlmAnswer.of(self.genesis, CHAT_COMPLETIONS_PATH, self.body, "".join(pieces), opg, None)


def _reason(response: httpx.Response) -> str:
    text = response.text.strip()
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                return str(error.get("message", error))
            if error is not None:
                return str(error)
    except ValueError:
        pass
    return text[:300] or response.reason_phrase


class Gateway:
    """A node's public listener (``url``, e.g. ``http://127.0.0.1:8080``) on chain
    ``genesis``; ``http`` an ``httpx.Client`` to use instead of a new one."""

    def __init__(self, url: str, genesis, *, timeout: float = 60.0, http: httpx.Client | None = None):
        self.url = url.rstrip("/")
        self.genesis = messages.hash32(genesis)
        self.http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def infer(self, model_hash, body: bytes, voucher: str | None = None) -> DirectAnswer:
        """Calls tensor model ``model_hash`` with ``body``, paying with ``voucher`` (a
        :func:`voucher_header`) if given. Raises :class:`PaymentRequired` on a ``402`` and
        :class:`GatewayError` on any other refusal; returns the answer unverified."""
        path = infer_path(model_hash)
        headers = {PAYMENT_HEADER: voucher} if voucher else {}
        response = self.http.post(self.url + path, content=body, headers=headers)
        return self._answer(response, model_hash, path, body)

    def _answer(self, response: httpx.Response, model_hash, path: str, body: bytes) -> DirectAnswer:
        self._refusal(response)
        answer = DirectAnswer(
            genesis=self.genesis, model_hash=messages.hash32(model_hash), path=path, body=body,
            output=response.content,
            node=_hex_header(response, NODE_HEADER), signature=_hex_header(response, SIGNATURE_HEADER))
        paid = response.headers.get(RESPONSE_HEADER)
        if paid is not None:
            receipt = decode_header(paid)
            answer.cumulative = int(receipt["cumulative"])
            answer.charged = int(receipt["charged"])
            answer.channel = int(receipt["channel"])
            answer.remaining = int(receipt["remaining"])
        return answer

    def chat(self, request: dict, pay=None) -> "LlmAnswer":
        """``POST /v1/chat/completions`` of ``request`` (OpenAI's JSON, not streaming),
        paid by ``pay(path, body)``'s voucher if given (it signs the exact bytes sent);
        :class:`PaymentRequired` on a ``402``."""
        body = json.dumps({**request, "stream": False}, separators=(",", ":")).encode()
        voucher = pay(CHAT_COMPLETIONS_PATH, body) if pay else None
        headers = {"content-type": "application/json", **({PAYMENT_HEADER: voucher} if voucher else {})}
        response = self.http.post(self.url + CHAT_COMPLETIONS_PATH, content=body, headers=headers)
        self._refusal(response)
        answer = response.json()
        text = answer["choices"][0]["message"]["content"]
        return LlmAnswer.of(self.genesis, CHAT_COMPLETIONS_PATH, body, text, answer.get("opg") or {}, answer)

    def chat_stream(self, request: dict, pay=None) -> "ChatStream":
        """The same streamed (``stream: true``): a :class:`ChatStream` of the answer's
        pieces, whose :attr:`ChatStream.answer` (with the evidence of the last chunk) is
        set once it is exhausted."""
        body = json.dumps({**request, "stream": True}, separators=(",", ":")).encode()
        voucher = pay(CHAT_COMPLETIONS_PATH, body) if pay else None
        headers = {"content-type": "application/json", **({PAYMENT_HEADER: voucher} if voucher else {})}
        request_ = self.http.build_request("POST", self.url + CHAT_COMPLETIONS_PATH, content=body, headers=headers)
        response = self.http.send(request_, stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            self._refusal(response)
        return ChatStream(self.genesis, body, response)

    @staticmethod
    def _refusal(response: httpx.Response) -> None:
        if response.status_code == 402:
            header = response.headers.get(REQUIRED_HEADER)
            if header is None:
                raise GatewayError(402, f"no {REQUIRED_HEADER} header: {_reason(response)}")
            raise PaymentRequired(Offer.from_header(header), _reason(response))
        if response.status_code != 200:
            raise GatewayError(response.status_code, _reason(response))

    def served(self, call_digest) -> dict | None:
        """The served call's leaf and Merkle proof under a settled root
        (``GET /v1/served/0x{digest}``), or ``None`` if the gateway has none."""
        response = self.http.get(f"{self.url}{SERVED_PATH}/0x{messages.hash32(call_digest).hex()}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise GatewayError(response.status_code, _reason(response))
        return response.json()


def _hex_header(response: httpx.Response, name: str) -> bytes | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return messages.raw_bytes(value)
    except ValueError:
        return None
