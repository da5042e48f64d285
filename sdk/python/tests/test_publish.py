"""Publishing a model file: the upload into a node's store (against a local HTTP server that
checks what an executor checks), the ZKML setup through opg-zk, and their refusals."""

import hashlib
import http.server
import os
import stat
import threading

import pytest

from opg.hub import Models
from opg.types import ChainError


class Store(http.server.BaseHTTPRequestHandler):
    """PUT /v1/artifacts/0x{hash}: 201 when the body is that hash, 422 otherwise."""

    received: dict = {}

    def do_PUT(self):  # noqa: N802 - http.server's name
        length = int(self.headers["content-length"])
        body = self.rfile.read(length)
        name = self.path.rsplit("/", 1)[-1]
        type(self).received = {"path": self.path, "length": length, "auth": self.headers.get("authorization"),
                               "body": body}
        ok = name == "0x" + hashlib.sha256(body).hexdigest()
        self.send_response(201 if ok else 422)
        self.end_headers()
        if not ok:
            self.wfile.write(b"the bytes are not the named artifact")

    def log_message(self, *_):
        pass


@pytest.fixture
def store():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_file_is_uploaded_whole_under_its_hash_with_progress(tmp_path, store):
    data = os.urandom(700_000)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    seen = []
    digest = Models.upload(path, store, token="s3cret", progress=lambda sent, total: seen.append((sent, total)))
    assert digest == hashlib.sha256(data).digest()
    assert Store.received["path"] == "/v1/artifacts/0x" + digest.hex()
    assert Store.received["body"] == data and Store.received["length"] == len(data)
    assert Store.received["auth"] == "Bearer s3cret"
    assert seen[-1] == (len(data), len(data)) and len(seen) > 1
    assert [sent for sent, _ in seen] == sorted(sent for sent, _ in seen)
    assert Models.digest(path) == (digest, len(data))


def test_a_refused_upload_is_a_chain_error_with_the_executors_reason(tmp_path, store, monkeypatch):
    path = tmp_path / "model.bin"
    path.write_bytes(b"abc")
    # The file changes between hashing and sending: the store refuses the bytes.
    real = Models.digest
    monkeypatch.setattr(Models, "digest", staticmethod(lambda p: (b"\x01" * 32, 3)))
    with pytest.raises(ChainError, match="upload refused.*422.*not the named artifact"):
        Models.upload(path, store)
    monkeypatch.setattr(Models, "digest", staticmethod(real))
    with pytest.raises(ChainError, match="upload failed"):
        Models.upload(path, "http://127.0.0.1:9")


def fake_opg_zk(tmp_path, script: str):
    binary = tmp_path / "opg-zk"
    binary.write_text("#!/bin/sh\n" + script)
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    return str(binary)


def test_the_zkml_setup_runs_opg_zk_and_returns_the_verifying_key(tmp_path):
    # Records its arguments and writes keys as opg-zk does: setup MODEL --out DIR [--seed N].
    binary = fake_opg_zk(tmp_path, 'echo "$@" > "$(dirname "$0")/args"; mkdir -p "$4"; '
                                   'printf vk > "$4/verifying.key"; printf pk > "$4/proving.key"\n')
    key = Models.zk_setup(tmp_path / "m.bin", tmp_path / "keys", opg_zk=binary, seed=3)
    assert key == b"vk"
    assert (tmp_path / "args").read_text().split() == ["setup", str(tmp_path / "m.bin"), "--out",
                                                       str(tmp_path / "keys"), "--seed", "3"]


def test_a_failed_setup_says_why_and_a_missing_opg_zk_says_where_to_find_it(tmp_path, monkeypatch):
    binary = fake_opg_zk(tmp_path, 'echo "reading the model: not a quantized model" >&2; exit 1\n')
    with pytest.raises(ChainError, match="zk setup failed: reading the model: not a quantized model"):
        Models.zk_setup(tmp_path / "m.bin", tmp_path / "keys", opg_zk=binary)
    monkeypatch.delenv("OPG_ZK", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ChainError, match="no opg-zk"):
        Models.zk_setup(tmp_path / "m.bin", tmp_path / "keys")


def test_publish_takes_a_file_or_an_artifacts_hash_and_size_not_neither():
    with pytest.raises(TypeError, match="path, or its artifact_hash and size"):
        Models(None).publish(name="m", schema={"inputs": [], "outputs": []})
    with pytest.raises(TypeError, match="path, or its artifact_hash and size"):
        Models(None).publish(name="m", schema={}, artifact_hash=b"\x01" * 32, size=3, upload="http://x")


class Recorder:
    """A client that records what it submits and answers ``ModelPublished``."""

    def __init__(self):
        self.submitted = []

    def submit(self, pallet, call, args):
        self.submitted.append((pallet, call, args))
        return ["published"]

    def event(self, events, pallet, name):
        return {"model": 4}


def test_a_float_models_tolerance_is_published_in_billionths():
    client = Recorder()
    schema = {"inputs": [{"shape": [1, 16], "dtype": "F32"}], "outputs": [{"shape": [1, 4], "dtype": "F32"}]}
    model = Models(client).publish(name="m", schema=schema, format="TorchScript", artifact_hash=b"\x01" * 32,
                                   size=3, tolerance=(1e-5, 1e-4))
    assert model == 4
    spec = client.submitted[0][2]["spec"]
    assert spec["tolerance"] == {"absolute_ppb": 10_000, "relative_ppb": 100_000}
    Models(client).publish(name="m", schema=schema, format="TorchScript", artifact_hash=b"\x01" * 32, size=3)
    assert client.submitted[1][2]["spec"]["tolerance"] is None, "none unless given"


def test_a_tolerance_out_of_range_is_refused_before_anything_is_sent():
    from opg.types import tolerance_from_chain, tolerance_to_chain

    for bad in [(-1e-5, 0.0), (0.0, 5.0), (float("nan"), 0.0), (float("inf"), 0.0)]:
        with pytest.raises(ValueError, match="between 0 and 4.294967295"):
            tolerance_to_chain(bad)
    assert tolerance_from_chain(tolerance_to_chain((4.294967295, 0.0))) == (4.294967295, 0.0)
    assert tolerance_from_chain(None) is None


def test_the_cli_reads_a_tolerance_as_abs_comma_rel():
    import argparse

    from opg.cli import _tolerance

    assert _tolerance("1e-5,1e-4") == (1e-5, 1e-4)
    for bad in ["1e-5", "a,b", "1,2,3", "-1,0"]:
        with pytest.raises(argparse.ArgumentTypeError, match="not a tolerance"):
            _tolerance(bad)
