"""A verification program's honeypots: the random inputs it plants, the plant sent to its
node's executor (against a local HTTP server that answers as an executor does), and the
exposure both keys sign."""

import http.server
import json
import struct
import threading

import pytest
from substrateinterface import Keypair

from opg import messages
from opg.hub import Honeypots, random_chat, random_input
from opg.types import ChainError


def test_a_random_input_has_the_schemas_length_and_floats_in_range():
    schema = {"inputs": [{"shape": [[1, 16]], "dtype": "F32"}, {"shape": [3], "dtype": {"I8": None}},
                         {"shape": [2], "dtype": "I64"}, {"shape": [2], "dtype": "Bool"}]}
    data = random_input(schema)
    assert len(data) == 16 * 4 + 3 + 2 * 8 + 2
    floats = struct.unpack("<16f", data[:64])
    assert all(-1 <= value < 1 for value in floats)
    assert all(byte in (0, 1) for byte in data[-2:])
    assert random_input(schema) != data, "no one else would send it"



def test_a_language_models_random_input_is_a_chat_request_no_one_else_would_send():
    data = random_chat()
    request = json.loads(data)
    assert request["max_tokens"] == 32
    [message] = request["messages"]
    assert message["role"] == "user"
    assert len(message["content"].rsplit(" ", 1)[1]) == 32, "a 128-bit nonce"
    assert random_chat() != data


class Executor(http.server.BaseHTTPRequestHandler):
    """POST /v1/honeypots/0x{model}: 201 with the plant, 400 for an empty body."""

    seen: dict = {}

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).seen = {"path": self.path, "body": body, "auth": self.headers.get("authorization")}
        if not body:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"expected the input's bytes")
            return
        self.send_response(201)
        self.end_headers()
        self.wfile.write(b'{"model": "0x01", "input": "0x02"}')

    def log_message(self, *_):
        pass


@pytest.fixture
def executor():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Executor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_plant_goes_to_the_executors_node_listener_with_its_token(executor):
    plant = Honeypots(None).plant(executor, b"\x01" * 32, b"input", token="t")
    assert plant == {"model": "0x01", "input": "0x02"}
    assert Executor.seen == {"path": "/v1/honeypots/0x" + "01" * 32, "body": b"input", "auth": "Bearer t"}
    with pytest.raises(ChainError, match="answered 400: expected the input's bytes"):
        Honeypots(None).plant(executor, b"\x01" * 32, b"")


class Recorder:
    genesis = b"\x42" * 32

    def __init__(self):
        self.sent = []

    def submit_unsigned(self, module, function, params):
        self.sent.append((module, function, params))
        return ["exposed"]

    def event(self, events, module, name):
        return {"case": 3}


def test_an_exposure_carries_both_keys_signatures_of_the_honeypot_message():
    client = Recorder()
    node, authority = Keypair.create_from_uri("//OpgDevNode"), Keypair.create_from_uri("//OpgHoneypotAuthority")
    assert Honeypots(client).expose(3, 7, "//OpgDevNode", "//OpgHoneypotAuthority") == {"case": 3}
    module, function, params = client.sent[0]
    assert (module, function, params["case"]) == ("Verification", "expose", 3)
    message = messages.honeypot(Recorder.genesis, 3, 7)
    assert node.verify(message, params["node_signature"])
    assert authority.verify(message, params["authority_signature"])
    assert not node.verify(messages.honeypot(Recorder.genesis, 3, 8), params["node_signature"])
