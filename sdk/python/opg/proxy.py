"""``opg proxy``: a local OpenAI-compatible server that only ever returns verified answers.

Any OpenAI client (the official ``openai`` package, LangChain, curl) pointed at
``http://127.0.0.1:PORT/v1`` talks to one language model at a node's gateway through this
proxy, which pays each call through the account's payment channel (when the model is
priced) and **checks each answer's evidence before returning any of it**: the node key
registered, the model published in the model hub, and the node key's signature over the
exact request sent, the text, the seed and the amount. A streamed answer is held until its
evidence (on its last chunk) has been checked, then streamed to the caller; an answer that
fails is never shown, the caller gets ``502`` with the failed check instead.

It listens on loopback only: whoever reaches it spends the account's channel.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opg import gateway as gw

#: Request fields the proxy sets itself rather than forwarding.
_OWN_FIELDS = ("model", "messages", "stream", "stream_options")


def _error(status: int, message: str, kind: str, code: str) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Proxy:
    """Serves model ``model`` (its name at the gateway) of ``client``'s gateway; calls are
    made one at a time (the client holds one chain connection)."""

    def __init__(self, client, model: str, *, gateway: str | None = None, max_tokens: int = 256):
        self.client = client
        self.model = model
        self.gateway = gateway
        self.max_tokens = max_tokens
        self.lock = threading.Lock()

    def complete(self, request: dict) -> tuple[int, dict | list[dict]]:
        """Answers one chat completion request: ``(status, JSON)``, or for a streamed
        request ``(200, [chunks])`` once the whole answer has been verified."""
        from opg.client import ChainError, EvidenceError

        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "messages: a non-empty array of chat messages is required", "invalid_request_error",
                          "invalid_messages")
        params = {key: value for key, value in request.items() if key not in _OWN_FIELDS}
        max_tokens = params.pop("max_tokens", None) or params.pop("max_completion_tokens", None) or self.max_tokens
        stream = bool(request.get("stream"))
        try:
            with self.lock:
                answer = self.client.chat(self.model, messages, stream=stream, gateway=self.gateway,
                                          max_tokens=int(max_tokens), **params)
                if stream:
                    pieces = list(answer)  # the evidence is checked when the stream ends
        except EvidenceError as e:
            return _error(502, f"the node's answer failed its evidence check and was withheld: {e}", "opg_evidence",
                          "evidence_failed")
        except gw.PaymentRequired as e:
            return _error(402, f"the gateway refused payment: {e}", "opg_payment", e.offer.error)
        except gw.GatewayError as e:
            return _error(e.status if 400 <= e.status < 600 else 502, f"the gateway answered: {e.reason}",
                          "opg_gateway", "gateway_error")
        except ChainError as e:
            return _error(502, f"the chain refused: {e}", "opg_chain", "chain_error")
        if not stream:
            return 200, answer.response
        return 200, self._chunks(request.get("model") or self.model, pieces, answer)

    @staticmethod
    def _chunks(model: str, pieces: list[str], stream) -> list[dict]:
        created, id_ = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}"

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": id_, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        chunks = [chunk({"role": "assistant", "content": ""})]
        chunks += [chunk({"content": piece}) for piece in pieces]
        last = chunk({}, stream.finish_reason or "stop")
        answer = stream.answer
        last["opg"] = {"node": "0x" + answer.node.hex(), "signature": "0x" + answer.signature.hex(),
                       "model_hash": "0x" + answer.model_hash.hex(), "seed": str(answer.seed),
                       "cumulative": str(answer.cumulative), "payment": answer.payment,
                       "verified": str(stream.verdict)}
        chunks.append(last)
        return chunks

    def models(self) -> dict:
        return {"object": "list", "data": [{"id": self.model, "object": "model", "created": 0,
                                            "owned_by": "opg"}]}

    def server(self, host: str = "127.0.0.1", port: int = 8090) -> ThreadingHTTPServer:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "opg-proxy"

            def log_message(self, format, *args):  # noqa: A002 - http.server's name
                pass

            def reply(self, status: int, value) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.rstrip("/") == "/v1/models":
                    self.reply(200, proxy.models())
                else:
                    self.reply(*_error(404, f"no route {self.path}", "invalid_request_error", "not_found"))

            def do_POST(self):  # noqa: N802 - http.server's name
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self.reply(*_error(404, f"no route {self.path}", "invalid_request_error", "not_found"))
                    return
                try:
                    length = int(self.headers.get("content-length") or 0)
                    request = json.loads(self.rfile.read(length))
                    if not isinstance(request, dict):
                        raise ValueError("a chat completion request is a JSON object")
                except ValueError as e:
                    self.reply(*_error(400, f"the body is not a chat completion request: {e}",
                                       "invalid_request_error", "invalid_json"))
                    return
                status, value = proxy.complete(request)
                if status != 200 or not isinstance(value, list):
                    self.reply(status, value)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                for chunk in value:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("opg proxy listens on loopback only: whoever reaches it spends the channel")
        return ThreadingHTTPServer((host, port), Handler)
