"""opg.gateway: the executor's HTTP contract (checked against its Rust source), vouchers,
402 offers and paid answers, against a gateway played by httpx's mock transport."""

import base64
import dataclasses
import hashlib
import json
import pathlib
import re

import httpx
import pytest
from substrateinterface import Keypair, KeypairType

from opg import evidence, gateway, messages

ROOT = pathlib.Path(__file__).resolve().parents[3]
API = (ROOT / "offchain/executor-api/src/lib.rs").read_text()
GENESIS = b"\x42" * 32
MODEL = b"\x07" * 32
NODE = Keypair.create_from_uri("//GatewayNode")
BOB = Keypair.create_from_uri("//Bob")


def rust_const(module: str, name: str) -> str:
    body = re.search(rf"pub mod {module} \{{(.*?)\n}}", API, re.S).group(1)
    return re.search(rf'pub const {name}: &str = "([^"]*)";', body).group(1)


def test_paths_headers_and_scheme_are_the_executor_apis():
    names = {
        ("path", "INFER"): gateway.INFER_PATH, ("path", "SERVED"): gateway.SERVED_PATH,
        ("path", "CHAT_COMPLETIONS"): gateway.CHAT_COMPLETIONS_PATH, ("path", "MODELS"): gateway.MODELS_PATH,
        ("path", "HEALTH"): gateway.HEALTH_PATH, ("header", "SIGNATURE"): gateway.SIGNATURE_HEADER,
        ("header", "NODE"): gateway.NODE_HEADER, ("header", "MODEL_HASH"): gateway.MODEL_HASH_HEADER,
        ("header", "SEED"): gateway.SEED_HEADER, ("payment", "REQUIRED"): gateway.REQUIRED_HEADER,
        ("payment", "SIGNATURE"): gateway.PAYMENT_HEADER, ("payment", "RESPONSE"): gateway.RESPONSE_HEADER,
        ("payment", "SCHEME"): gateway.SCHEME,
    }
    for (module, name), value in names.items():
        assert value == rust_const(module, name), (module, name)
    assert f"pub const X402_VERSION: u32 = {gateway.X402_VERSION};" in API


def test_the_refusal_codes_are_the_executor_apis_every_one():
    assert set(gateway.REFUSALS) == set(re.findall(r'Self::\w+ => "([a-z_]+)"', API))


def test_the_default_minimum_deposit_is_the_runtimes():
    from opg.client import DEFAULT_MIN_DEPOSIT, OPG

    source = (ROOT / "runtime/src/configs/governance.rs").read_text()
    assert "pub static ChannelMinDeposit: Balance = OPG;" in source
    assert DEFAULT_MIN_DEPOSIT == OPG


def test_a_voucher_header_carries_the_clients_signature_over_the_voucher_message():
    body = b"\x01\x02"
    header = gateway.voucher_header(BOB, GENESIS, 5, 3 * 10**18, gateway.infer_path(MODEL), body)
    value = json.loads(base64.b64decode(header))
    assert value["x402Version"] == 2 and value["scheme"] == "opg-channel"
    assert value["network"] == "0x" + GENESIS.hex()
    payload = value["payload"]
    assert (payload["channel"], payload["cumulative"]) == ("5", "3000000000000000000")
    signature = messages.raw_bytes(payload["signature"])
    assert signature[0] == 1 and len(signature) == 65, "MultiSignature::Sr25519"
    message = messages.voucher(GENESIS, 5, 3 * 10**18, messages.call_digest(gateway.infer_path(MODEL), body))
    assert evidence.verify(BOB.public_key, message, signature[1:])
    assert not evidence.verify(BOB.public_key, message[:-1] + b"\x00", signature[1:])


def test_an_ed25519_account_signs_vouchers_and_an_ecdsa_one_is_refused_clearly():
    seed = "0x" + "01" * 32
    ed = Keypair.create_from_seed(seed, crypto_type=KeypairType.ED25519)
    signature = gateway.multi_signature(ed, b"m")
    assert signature[0] == 0 and len(signature) == 65 and ed.verify(b"m", signature[1:])
    ecdsa = Keypair.create_from_private_key(seed, crypto_type=KeypairType.ECDSA)
    with pytest.raises(ValueError, match="sr25519 or ed25519"):
        gateway.multi_signature(ecdsa, b"m")


def required_header(error="payment_required", amount=10**18):
    return gateway.encode_header({
        "x402Version": 2, "error": error, "resource": {"url": gateway.infer_path(MODEL)},
        "accepts": [{"scheme": "opg-channel", "network": "0x" + GENESIS.hex(), "amount": str(amount),
                     "asset": "OPG", "payTo": "0x" + NODE.public_key.hex(), "maxTimeoutSeconds": 60,
                     "extra": {"node": "0x" + NODE.public_key.hex(), "operator": "0x" + "aa" * 32, "model": 3,
                               "modelHash": "0x" + MODEL.hex(), "minIncrement": str(amount),
                               "pricePerToken": None, "open": "channels.open(...)"}}],
    })


def test_an_offer_is_read_from_a_402_and_a_malformed_one_is_a_clear_error():
    offer = gateway.Offer.from_header(required_header("below_price", 7))
    assert (offer.error, offer.amount, offer.model, offer.model_hash) == ("below_price", 7, 3, MODEL)
    assert offer.node == NODE.public_key and offer.network == GENESIS and offer.price_per_token is None
    for bad in ("not base64!", base64.b64encode(b"[1]").decode(),
                gateway.encode_header({"x402Version": 2, "error": "x", "accepts": [{"scheme": "exact"}]})):
        with pytest.raises(ValueError):
            gateway.Offer.from_header(bad)


class FakeGateway:
    """Answers like a node's gateway: 402 without a voucher, the model's answer with it."""

    def __init__(self, output=b"\x05\x06"):
        self.output = output
        self.seen = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        voucher = request.headers.get("payment-signature")
        if request.url.path != gateway.infer_path(MODEL):
            return httpx.Response(404, text="no such model\n")
        if voucher is None:
            return httpx.Response(402, headers={"payment-required": required_header()},
                                  text="payment_required: send a voucher\n")
        cumulative = int(gateway.decode_header(voucher)["payload"]["cumulative"])
        digest = messages.call_digest(request.url.path, request.content)
        signed = messages.direct_answer(GENESIS, MODEL, digest, hashlib.sha256(self.output).digest(), cumulative)
        receipt = {"success": True, "scheme": "opg-channel", "network": "0x" + GENESIS.hex(), "channel": "5",
                   "charged": str(10**18), "cumulative": str(cumulative), "remaining": "0"}
        return httpx.Response(200, content=self.output, headers={
            "x-opg-node": "0x" + NODE.public_key.hex(), "x-opg-signature": "0x" + NODE.sign(signed).hex(),
            "payment-response": gateway.encode_header(receipt)})


def test_a_gateway_call_without_payment_raises_the_offer_and_a_paid_one_verifies():
    fake = FakeGateway()
    client = gateway.Gateway("http://node", GENESIS, http=httpx.Client(transport=httpx.MockTransport(fake)))
    with pytest.raises(gateway.PaymentRequired) as refused:
        client.infer(MODEL, b"\x01")
    assert refused.value.offer.error == "payment_required"
    assert "send a voucher" in refused.value.reason
    voucher = gateway.voucher_header(BOB, GENESIS, 5, 10**18, gateway.infer_path(MODEL), b"\x01")
    answer = client.infer(MODEL, b"\x01", voucher)
    assert answer.output == b"\x05\x06" and answer.node == NODE.public_key
    assert (answer.channel, answer.charged, answer.cumulative, answer.remaining) == (5, 10**18, 10**18, 0)
    assert answer.verify() and answer.verify(NODE.public_key)
    assert not answer.verify(BOB.public_key), "another node's key"
    answer.output = b"\x05\x07"
    assert not answer.verify(), "an altered output"


def test_any_other_refusal_is_a_gateway_error_with_its_status_and_reason():
    client = gateway.Gateway("http://node", GENESIS,
                             http=httpx.Client(transport=httpx.MockTransport(FakeGateway())))
    with pytest.raises(gateway.GatewayError, match="404: no such model") as failed:
        client.infer(b"\x08" * 32, b"\x01")
    assert failed.value.status == 404


class FakeLlmGateway:
    """A language model's gateway: 402 without a voucher when ``price`` is set; the
    answer's ``opg`` evidence signed over the exact body, as a whole or streamed."""

    def __init__(self, text="Paris.", price=None, seed=42):
        self.text, self.price, self.seed = text, price, seed
        self.vouchers = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        voucher = request.headers.get("payment-signature")
        if self.price is not None and voucher is None:
            return httpx.Response(402, headers={"payment-required": required_header(amount=self.price)},
                                  text="payment_required: send a voucher\n")
        cumulative = 0
        if voucher is not None:
            payload = gateway.decode_header(voucher)["payload"]
            cumulative = int(payload["cumulative"])
            digest = messages.call_digest(request.url.path, body)
            signed = messages.voucher(GENESIS, int(payload["channel"]), cumulative, digest)
            assert evidence.verify(BOB.public_key, signed, messages.raw_bytes(payload["signature"])[1:])
            self.vouchers.append(cumulative)
        message = messages.llm_answer(GENESIS, MODEL, messages.call_digest(request.url.path, body),
                                      hashlib.sha256(self.text.encode()).digest(), self.seed, cumulative)
        opg = {"model_hash": "0x" + MODEL.hex(), "network": "0x" + GENESIS.hex(), "seed": str(self.seed),
               "cumulative": str(cumulative), "node": "0x" + NODE.public_key.hex(),
               "signature": "0x" + NODE.sign(message).hex()}
        if json.loads(body).get("stream"):
            pieces = [self.text[:3], self.text[3:]]
            frames = [{"choices": [{"index": 0, "delta": {"content": piece}}]} for piece in pieces]
            frames.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "opg": opg})
            stream = "".join(f"data: {json.dumps(frame)}\n\n" for frame in frames) + "data: [DONE]\n\n"
            return httpx.Response(200, content=stream.encode(), headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant",
                                                                              "content": self.text}}], "opg": opg})


def llm_gateway(fake):
    return gateway.Gateway("http://node", GENESIS, http=httpx.Client(transport=httpx.MockTransport(fake)))


def test_a_chat_answer_verifies_over_the_exact_request_text_and_seed():
    answer = llm_gateway(FakeLlmGateway()).chat({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
    assert (answer.text, answer.seed, answer.cumulative, answer.model_hash) == ("Paris.", 42, 0, MODEL)
    assert answer.verify() and answer.verify(NODE.public_key)
    for changed in ({"text": "Paris!"}, {"seed": 43}, {"body": answer.body + b" "}, {"genesis": bytes(32)}):
        assert not dataclasses.replace(answer, **changed).verify(), changed


def test_a_streamed_chat_yields_its_pieces_then_the_answer_with_its_evidence():
    stream = llm_gateway(FakeLlmGateway()).chat_stream({"model": "m", "messages": []})
    assert stream.answer is None
    assert list(stream) == ["Par", "is."]
    assert stream.answer.text == "Paris." and stream.answer.verify()


def test_a_priced_chat_is_refused_402_and_paid_by_a_voucher_over_the_exact_body():
    fake = FakeLlmGateway(price=7)
    client = llm_gateway(fake)
    with pytest.raises(gateway.PaymentRequired) as refused:
        client.chat({"model": "m", "messages": []})
    assert refused.value.offer.amount == 7

    def pay(path, body):
        return gateway.voucher_header(BOB, GENESIS, 5, 100, path, body)

    answer = client.chat({"model": "m", "messages": []}, pay)
    assert fake.vouchers == [100] and answer.cumulative == 100 and answer.verify()
    assert list(client.chat_stream({"model": "m", "messages": []}, pay)) == ["Par", "is."]
    assert fake.vouchers == [100, 100]


def test_the_mode_and_role_flags_are_the_runtimes():
    from opg.client import MODES, ROLES

    source = (ROOT / "primitives/opg/src/modes.rs").read_text()
    bits = {name: 1 << int(bit) for name, bit in re.findall(r"^\t\t([A-Z]+) = (\d+),$", source, re.M)}
    assert MODES == {"Vanilla": bits["VANILLA"], "Tee": bits["TEE"], "Zkml": bits["ZKML"]}
    assert ROLES == {"Inference": bits["INFERENCE"], "Data": bits["DATA"], "Verifier": bits["VERIFIER"]}
