"""opg.proxy: OpenAI-shaped answers only once verified; a failed check is withheld (502)."""

import json
import threading
import urllib.error
import urllib.request

import httpx

from opg import gateway
from opg.client import Check, EvidenceError, Verdict
from opg.proxy import Proxy
from test_gateway import GENESIS, FakeLlmGateway


class FakeClient:
    """Client.chat over a fake gateway; ``verdict`` decides whether the evidence holds."""

    def __init__(self, ok=True):
        self.ok = ok
        self.gateway = gateway.Gateway("http://node", GENESIS,
                                       http=httpx.Client(transport=httpx.MockTransport(FakeLlmGateway())))
        self.calls = []

    def chat(self, model, messages, *, stream, gateway=None, max_tokens, **params):
        self.calls.append((model, messages, stream, max_tokens, params))
        if not self.ok:
            raise EvidenceError(Verdict([Check("signature", False, "not the node key's")]))
        request = {"model": model, "messages": messages, "max_tokens": max_tokens, **params}
        if not stream:
            return self.gateway.chat(request)
        inner = self.gateway.chat_stream(request)

        class Checked:
            verdict = Verdict([Check("signature", True)])
            answer = property(lambda _: inner.answer)
            finish_reason = property(lambda _: inner.finish_reason)

            def __iter__(self):
                yield from inner

        return Checked()


def serve(proxy):
    server = proxy.server(port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_verified_answer_is_returned_whole_or_streamed_with_its_evidence():
    client = FakeClient()
    server, url = serve(Proxy(client, "smol", max_tokens=9))
    try:
        ask = {"model": "anything", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0}
        status, body = post(url + "/v1/chat/completions", ask)
        assert status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "Paris."
        assert client.calls[-1] == ("smol", ask["messages"], False, 9, {"temperature": 0})
        status, body = post(url + "/v1/chat/completions", {**ask, "stream": True, "max_tokens": 3})
        frames = [line[len("data: "):] for line in body.splitlines() if line.startswith("data: ")]
        assert status == 200 and frames[-1] == "[DONE]"
        chunks = [json.loads(frame) for frame in frames[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Paris."
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert chunks[-1]["opg"]["verified"] == "verified: signature"
        assert client.calls[-1][3] == 3
    finally:
        server.shutdown()


def test_an_answer_that_fails_its_check_is_withheld_with_502_and_the_reason():
    server, url = serve(Proxy(FakeClient(ok=False), "smol"))
    try:
        for stream in (False, True):
            status, body = post(url + "/v1/chat/completions",
                                {"messages": [{"role": "user", "content": "Hi"}], "stream": stream})
            error = json.loads(body)["error"]
            assert status == 502 and error["code"] == "evidence_failed", body
            assert "signature failed" in error["message"] and "Paris" not in body
    finally:
        server.shutdown()


def test_bad_requests_are_refused_in_openais_error_shape():
    server, url = serve(Proxy(FakeClient(), "smol"))
    try:
        status, body = post(url + "/v1/chat/completions", {"messages": []})
        assert status == 400 and json.loads(body)["error"]["code"] == "invalid_messages"
        status, body = post(url + "/v1/completions", {"prompt": "x"})
        assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
        with urllib.request.urlopen(url + "/v1/models") as response:
            assert [m["id"] for m in json.load(response)["data"]] == ["smol"]
    finally:
        server.shutdown()


def test_the_proxy_listens_on_loopback_only():
    import pytest

    with pytest.raises(ValueError, match="loopback only"):
        Proxy(FakeClient(), "smol").server(host="0.0.0.0", port=0)


class StubClient:
    """What _PayingTransport asks of a Client: the chain, a voucher, the verdict."""

    def __init__(self, ok=True):
        from opg.client import Channel

        self.genesis, self.ok = GENESIS, ok
        self.channel = Channel(5, b"\x01" * 32, 10**6)

    def _token_voucher(self, offer, max_tokens, deposit):
        from test_gateway import BOB

        cap = offer.amount + max_tokens

        def pay(path, body):
            return gateway.voucher_header(BOB, GENESIS, self.channel.id, self.channel.spent + cap, path, body)

        return self.channel, pay

    @staticmethod
    def _charged(channel, answer):
        channel.spent = answer.cumulative

    def verify(self, answer):
        return Verdict([Check("signature", self.ok and answer.verify(), "not the node key's")])


def openai_over(fake, client):
    import openai

    from opg.client import _PayingTransport

    http = httpx.Client(transport=_PayingTransport(client, None, inner=httpx.MockTransport(fake)))
    return openai.OpenAI(base_url="http://node/v1", api_key="x", http_client=http, max_retries=0)


def test_the_openai_client_pays_a_402_and_returns_checked_answers_whole_or_streamed():
    fake = FakeLlmGateway(price=7)
    client = openai_over(fake, StubClient())
    ask = [{"role": "user", "content": "Hi"}]
    whole = client.chat.completions.create(model="m", messages=ask, max_tokens=3)
    assert whole.choices[0].message.content == "Paris." and fake.vouchers == [10]
    pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="m", messages=ask, max_tokens=3, stream=True) if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "Paris." and fake.vouchers == [10, 20], "each voucher builds on the last"


def test_the_openai_client_raises_instead_of_returning_an_answer_that_fails_its_check():
    import pytest

    client = openai_over(FakeLlmGateway(), StubClient(ok=False))
    with pytest.raises(EvidenceError, match="signature failed"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
