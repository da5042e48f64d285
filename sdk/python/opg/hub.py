"""The chain's registries as the client drives them: the model hub (:class:`Models`),
payment channels (:class:`Channels`), the node registry (:class:`Nodes`) and the checks of
results by verification nodes (:class:`Verification`), with the argument shapes
substrate-interface needs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from opg import messages
from opg.types import (CHANNEL_BLOCKS, DEFAULT_MIN_DEPOSIT, MODES, OPG, ROLES, ChainError, Channel, Model,
                       tolerance_to_chain)

if TYPE_CHECKING:
    from opg.client import Client

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


def _bounded(items) -> list:
    """A ``BoundedVec<T>`` argument (``T`` not ``u8``) as substrate-interface encodes it:
    its metadata type is a one-field tuple around the ``Vec<T>``, and scalecodec takes a
    plain list as that tuple's fields ("Provided value is not a list"); the list wrapped
    once more is the one field."""
    return [list(items)]


def _executor_post(executor: str, path: str, token: str | None, failure: str) -> dict:
    """``POST`` to a node's executor (its node-facing listener); its JSON, or
    :class:`ChainError` named ``failure`` with the executor's reason."""
    import httpx

    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.post(executor.rstrip("/") + path, headers=headers, timeout=120.0)
    except httpx.HTTPError as e:
        raise ChainError(failure, f"{executor}: {e}") from None
    if response.status_code != 200:
        raise ChainError(failure, f"the executor answered {response.status_code}: {response.text.strip()[:300]}")
    return response.json()


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

    def publish(self, path=None, *, name: str, schema: dict, format: str = "QuantizedInteger", price: int = OPG,
                modes: int = MODES["Vanilla"], version: str = "1.0.0", verifying_key: bytes | None = None,
                tolerance: tuple[float, float] | None = None,
                artifact_hash=None, size: int | None = None, locator: str = "opg-executor artifact store",
                **file_options):
        """Publishes a model; ``schema`` ``{"inputs": [{"shape": [...], "dtype": "I8"}],
        "outputs": [...]}``. A float model (TorchScript, Onnx) may publish its
        ``tolerance`` ``(absolute, relative)``: verification nodes then accept a result
        whose every float output element is within ``absolute + relative * |theirs|`` of
        their own (else they compare bytes, which holds on the node's build and CPU kind
        alone). Given the model file's ``path``, it is :meth:`publish_file` (hash,
        ``upload=`` to a node's store, ZKML setup, progress) and returns its dict; given the
        artifact's ``artifact_hash`` and ``size`` instead (the file already in its nodes'
        stores), it returns the new model's id."""
        if path is not None:
            return self.publish_file(path, name=name, schema=schema, format=format, price=price, modes=modes,
                                     version=version, verifying_key=verifying_key, tolerance=tolerance,
                                     **file_options)
        if artifact_hash is None or size is None or file_options:
            raise TypeError("publish takes the model file's path, or its artifact_hash and size")
        major, minor, patch = (int(part) for part in version.split("."))

        def tensor(spec: dict) -> dict:
            return {"shape": _bounded(spec["shape"]), "dtype": spec["dtype"],
                    "quantization": spec.get("quantization")}

        spec = {
            "name": name, "version": {"major": major, "minor": minor, "patch": patch}, "format": format,
            "artifact": {"hash": "0x" + messages.hash32(artifact_hash).hex(), "size": size, "locator": locator},
            "schema": {"inputs": _bounded([tensor(t) for t in schema["inputs"]]),
                       "outputs": _bounded([tensor(t) for t in schema["outputs"]])},
            "price": price, "modes": modes, "tolerance": tolerance_to_chain(tolerance),
        }
        key = "0x" + verifying_key.hex() if verifying_key is not None else None
        events = self.client.submit("ModelHub", "publish", {"spec": spec, "verifying_key": key})
        return int(self.client.event(events, "ModelHub", "ModelPublished")["model"])

    @staticmethod
    def digest(path) -> tuple[bytes, int]:
        """A model file's SHA-256 (its artifact hash in the hub) and size, read in chunks."""
        sha, size = hashlib.sha256(), 0
        with open(path, "rb") as file:
            while chunk := file.read(1 << 20):
                sha.update(chunk)
                size += len(chunk)
        return sha.digest(), size

    @staticmethod
    def upload(path, executor: str, *, token: str | None = None,
               progress: Callable[[int, int], None] | None = None, timeout: float = 600.0) -> bytes:
        """Puts a model file into a node's artifact store (``PUT /v1/artifacts/0x{hash}`` on
        its executor's node-facing listener: loopback, or any caller with ``token``); the
        executor refuses bytes that are not the named hash. ``progress(sent, total)`` is told
        as it goes. Returns the artifact hash."""
        import httpx

        digest, size = Models.digest(path)

        def chunks():
            sent = 0
            with open(path, "rb") as file:
                while chunk := file.read(1 << 18):
                    sent += len(chunk)
                    yield chunk
                    if progress:
                        progress(sent, size)

        headers = {"content-length": str(size), "content-type": "application/octet-stream"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        url = f"{executor.rstrip('/')}/v1/artifacts/0x{digest.hex()}"
        try:
            response = httpx.put(url, content=chunks(), headers=headers, timeout=timeout)
        except httpx.HTTPError as e:
            raise ChainError("upload failed", f"{url}: {e}") from None
        if response.status_code not in (200, 201):
            raise ChainError("upload refused", f"{url} answered {response.status_code}: {response.text.strip()[:300]}")
        return digest

    @staticmethod
    def zk_setup(path, out: str | os.PathLike, *, opg_zk: str | None = None, seed: int | None = None) -> bytes:
        """Generates a ZKML model's Groth16 keys with ``opg-zk setup`` (``opg_zk``, else
        ``$OPG_ZK``, else ``opg-zk`` on the PATH): ``out/proving.key`` for the nodes that
        prove it (their ``--zk-keys`` directory, under the model hash) and
        ``out/verifying.key``, which the model hub stores; returns the verifying key. Without
        ``seed`` the setup's randomness is the operating system's (a single-party setup:
        whoever runs it could forge proofs, so the model's owner runs it)."""
        binary = opg_zk or os.environ.get("OPG_ZK") or shutil.which("opg-zk")
        if not binary:
            raise ChainError("no opg-zk", "give its path (--opg-zk or $OPG_ZK): it is built with the node")
        args = [binary, "setup", str(path), "--out", str(out)] + (["--seed", str(seed)] if seed is not None else [])
        run = subprocess.run(args, capture_output=True, text=True)
        if run.returncode != 0:
            said = (run.stderr.strip() or run.stdout.strip()).splitlines()
            raise ChainError("zk setup failed", said[-1] if said else f"exit status {run.returncode}")
        return (Path(out) / "verifying.key").read_bytes()

    def publish_file(self, path, *, name: str, schema: dict, format: str = "QuantizedInteger", price: int = OPG,
                     modes: int = MODES["Vanilla"], version: str = "1.0.0", verifying_key: bytes | None = None,
                     tolerance: tuple[float, float] | None = None, upload: str | None = None, token: str | None = None, zk_out=None, opg_zk: str | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> dict:
        """Publishes the model in file ``path``: hashes it, puts it into a node's store when
        ``upload`` names that node's executor, runs the ZKML setup when ``modes`` include
        ZKML and no ``verifying_key`` is given (keys in ``zk_out``, by default a new
        directory), then publishes. ``progress(step, done, total)`` is told each step
        (``"upload"`` with bytes, ``"setup"`` and ``"publish"`` with 0/1 then 1/1).
        Returns ``{"model", "hash", "size", "keys"}`` (``keys``: the setup's directory)."""
        say = progress or (lambda *_: None)
        digest, size = self.digest(path)
        if upload:
            self.upload(path, upload, token=token, progress=lambda sent, total: say("upload", sent, total))
        keys = None
        if modes & MODES["Zkml"] and verifying_key is None:
            keys = Path(zk_out) if zk_out else Path(tempfile.mkdtemp(prefix="opg-zk-"))
            say("setup", 0, 1)
            # The layout of an executor's --zk-keys directory: one directory per model hash.
            verifying_key = self.zk_setup(path, keys / digest.hex(), opg_zk=opg_zk)
            say("setup", 1, 1)
        say("publish", 0, 1)
        model = self.publish(artifact_hash=digest, size=size, name=name, format=format, schema=schema, price=price,
                             modes=modes, version=version, verifying_key=verifying_key, tolerance=tolerance)
        say("publish", 1, 1)
        return {"model": model, "hash": digest, "size": size, "keys": keys}


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
                 executor: str | None = None, token: str | None = None, **capabilities) -> bytes:
        """Registers a node operated by this client's account, with ``bond`` held from it;
        returns the node key's public key. The node key proves it consents: either
        ``node_key`` (its sr25519 ``Keypair``, secret URI or 0x-hex seed) signs here, or, for
        a TEE node whose key never leaves its executor, ``executor`` (its node-facing URL,
        ``token`` as for uploads) signs (``POST /v1/registration``) for the operator it was
        started for, which must be this account."""
        operator = self.client.signer
        if operator is None:
            raise ChainError("no signer", "the operator's account signs a registration")
        if executor is not None:
            public, proof = self._executor_registration(executor, token, operator.public_key)
        else:
            node = node_keypair(node_key)
            public, proof = node.public_key, bytes(node.sign(messages.registration(self.client.genesis,
                                                                                  operator.public_key)))
        self.client.submit("NodeRegistry", "register", {
            "node": "0x" + public.hex(), "roles": roles,
            "capabilities": self.capabilities(models, modes, **capabilities), "bond": bond,
            "signature": "0x" + proof.hex()})
        return public

    def _executor_registration(self, executor: str, token: str | None, operator: bytes) -> tuple[bytes, bytes]:
        produced = _executor_post(executor, f"/v1/registration?genesis=0x{self.client.genesis.hex()}", token,
                                  "no registration")
        if messages.hash32(produced["operator"]) != operator:
            raise ChainError("wrong operator", f"the executor at {executor} serves operator {produced['operator']}, "
                                               f"not this signer (0x{operator.hex()}): restart it with --operator")
        return messages.hash32(produced["node"]), messages.raw_bytes(produced["signature"])

    def attest(self, node, executor: str, *, token: str | None = None, kind: str = "Nitro") -> dict:
        """Attests operated node ``node`` (its key): asks the chain for a challenge
        (``request_challenge``), has the node's executor produce TEE evidence binding its
        nonce (``POST /v1/attestation?genesis=&nonce=`` on its node-facing listener, ``token``
        as for uploads) and submits it (``submit_attestation``). Returns the
        ``NodeAttested`` event (``tee``, ``measurement``, ``expires_at``)."""
        key = messages.hash32(node)
        events = self.client.submit("NodeRegistry", "request_challenge", {"node": "0x" + key.hex()})
        nonce = _hex(self.client.event(events, "NodeRegistry", "ChallengeIssued")["nonce"])
        produced = _executor_post(executor, f"/v1/attestation?genesis=0x{self.client.genesis.hex()}&nonce=0x{nonce.hex()}",
                                  token, "no evidence")
        if produced.get("node") and messages.hash32(produced["node"]) != key:
            raise ChainError("wrong node", f"the executor at {executor} holds node key {produced['node']}, not 0x{key.hex()}")
        events = self.client.submit("NodeRegistry", "submit_attestation", {
            "node": "0x" + key.hex(), "evidence": {kind: {"document": produced["document"]}}})
        return self.client.event(events, "NodeRegistry", "NodeAttested")

    def unregister(self, node) -> dict:
        """Starts operated node ``node``'s exit: it is assigned nothing new from now on, may
        still settle what it was assigned, and its bond is released by :meth:`withdraw` after
        the unbonding period. Returns the ``NodeUnbonding`` event (``until``: the block)."""
        events = self.client.submit("NodeRegistry", "unregister", {"node": "0x" + messages.hash32(node).hex()})
        return self.client.event(events, "NodeRegistry", "NodeUnbonding")

    def withdraw(self, node) -> dict:
        """Releases an exited node's bond once its unbonding period is over and removes the
        node. Returns the ``NodeRemoved`` event (``released``: the amount)."""
        events = self.client.submit("NodeRegistry", "withdraw_unbonded", {"node": "0x" + messages.hash32(node).hex()})
        return self.client.event(events, "NodeRegistry", "NodeRemoved")

    def update_capabilities(self, node, models: list[int], modes: int, **capabilities) -> None:
        """Replaces what operated node ``node`` (its key) serves."""
        self.client.submit("NodeRegistry", "update_capabilities", {
            "node": "0x" + messages.hash32(node).hex(),
            "capabilities": self.capabilities(models, modes, **capabilities)})


class Verification:
    """Results checked by verification nodes (pallet ``Verification``, docs/verification.md):
    a vanilla or TEE result's payment is held through its challenge window, in which anyone
    may challenge it by posting the challenge bond."""

    def __init__(self, client: Client):
        self.client = client

    def params(self) -> dict:
        """The game's governance parameters (``challenge_window``, ``challenge_bond``,
        ``surcharge``, periods, slashing)."""
        return self.client.query("Verification", "Parameters")

    def held(self, request: int) -> dict | None:
        """Request ``request``'s payment held in its challenge window (``final_at``: the block
        it is final at; ``disputed`` once a case checks it), or ``None`` once released,
        refunded, or never held (ZKML)."""
        return self.client.query("Inference", "HeldPayments", [request])

    def challenge(self, request: int) -> dict:
        """Challenges ``request``'s result while it is held, holding the challenge bond until
        its case ends (returned if the result is overturned, paid to its node if upheld).
        The ``Challenged`` event: ``case``, ``result``, ``challenger``, ``bond``; its committee
        is drawn at the next block. :class:`ChainError` ``Verification.NotChallengeable``
        for a result not in its window, ``Verification.AlreadyChecked`` for one already
        sampled or challenged."""
        events = self.client.submit("Verification", "challenge", {"result": request})
        return self.client.event(events, "Verification", "Challenged")

    def case(self, request: int) -> dict | None:
        """The case checking ``request``'s result, or ``None`` if it is not checked (neither
        sampled nor challenged): ``case`` (its id) with the record's fields (``node``,
        ``game``: phase, round, seats and verdicts; ``challenger``), or only ``case`` while a
        challenge waits for its committee (drawn at the next block)."""
        case = self.client.query("Verification", "CaseOf", [request])
        if case is None:
            return None
        record = self.client.query("Verification", "Cases", [case])
        return {"case": int(case), **(record or {})}


def random_input(schema: dict, rng=None) -> bytes:
    """An input for a model of ``schema`` (as the hub stores it) no one else would send:
    random values, floats in [-1, 1) for float tensors, little-endian in schema order."""
    import random
    import struct

    rng = rng or random.SystemRandom()
    parts = []
    for tensor in schema["inputs"]:
        shape = tensor["shape"]
        shape = shape[0] if shape and isinstance(shape[0], list) else shape  # a BoundedVec's one field
        count = 1
        for dim in shape:
            count *= int(dim)
        dtype = _enum(tensor["dtype"])
        if dtype == "F32":
            parts.append(struct.pack(f"<{count}f", *(rng.uniform(-1, 1) for _ in range(count))))
        elif dtype == "F16":
            parts.append(struct.pack(f"<{count}e", *(rng.uniform(-1, 1) for _ in range(count))))
        elif dtype == "BF16":
            parts.append(b"".join(struct.pack("<f", rng.uniform(-1, 1))[2:] for _ in range(count)))
        elif dtype == "Bool":
            parts.append(bytes(rng.randrange(2) for _ in range(count)))
        else:
            size = {"I8": 1, "U8": 1, "I16": 2, "I32": 4, "I64": 8}[dtype]
            parts.append(bytes(rng.randrange(256) for _ in range(count * size)))
    return b"".join(parts)


def random_chat(rng=None) -> bytes:
    """A chat request for a language model (the body of an on-chain request to an ``Llm``
    model) no one else would send: a random 128-bit nonce to repeat, 32 tokens at most."""
    import random

    rng = rng or random.SystemRandom()
    nonce = "%032x" % rng.getrandbits(128)
    return json.dumps({
        "messages": [{"role": "user", "content": f"Repeat this code back to me: {nonce}"}],
        "max_tokens": 32,
    }, separators=(",", ":")).encode()


class Honeypots:
    """A verification program's honeypots (docs/verification.md, "Honeypots"): wrong
    answers planted on the program's own node, so that a verifier that signs "valid"
    without checking is caught. The program's node operator plants an input on its
    executor (:meth:`plant`), requests it on chain, challenges the answer; once the case's
    committee has committed, the node's key and the chain's honeypot authority key show it
    a honeypot (:meth:`expose`): the case is overturned, the node is not slashed, and the
    verifiers that signed it valid pay. :meth:`run` does it all."""

    def __init__(self, client: Client):
        self.client = client

    def plant(self, executor: str, model_hash, input_: bytes, *, token: str | None = None) -> dict:
        """Plants ``input_`` for the model whose artifact is ``model_hash`` on the executor
        at ``executor`` (its node listener): its next on-chain answer on that input is
        wrong, once. The plant (``{"model", "input"}``, hashes), or :class:`ChainError`."""
        import httpx

        headers = {"authorization": f"Bearer {token}"} if token else {}
        url = f"{executor.rstrip('/')}/v1/honeypots/0x{messages.hash32(model_hash).hex()}"
        try:
            response = httpx.post(url, content=input_, headers=headers, timeout=30.0)
        except httpx.HTTPError as e:
            raise ChainError("honeypot not planted", f"{executor}: {e}") from None
        if response.status_code != 201:
            raise ChainError("honeypot not planted",
                             f"the executor answered {response.status_code}: {response.text.strip()[:300]}")
        return response.json()

    def expose(self, case: int, request: int, node_key, authority) -> dict:
        """Shows case ``case`` (checking request ``request``'s planted result) a honeypot:
        ``node_key`` (the planted node's: a Keypair, secret URI or 0x seed) and ``authority``
        (the chain's honeypot authority key) sign ``messages.honeypot``; sent unsigned.
        Only once its committee has committed (``Verification.WrongPhase`` before). The
        ``HoneypotExposed`` event."""
        message = messages.honeypot(self.client.genesis, case, request)
        node, authority = node_keypair(node_key), keypair(authority)
        events = self.client.submit_unsigned("Verification", "expose", {
            "case": case,
            "node_signature": "0x" + node.sign(message).hex(),
            "authority_signature": "0x" + authority.sign(message).hex(),
        })
        return self.client.event(events, "Verification", "HoneypotExposed")

    def run(self, model: int, executor: str, node_key, authority, *, token: str | None = None,
            timeout: float = 600.0, progress=None) -> dict:
        """Plants a random input of model ``model`` (for a language model, a chat request:
        :func:`random_chat`) on ``executor`` (the node whose key is
        ``node_key``), requests it on chain, challenges its (wrong) result, waits for the
        case's committee to commit, exposes it (:meth:`expose`), and waits for the case to
        end. ``{"request", "case", "outcome", "verdicts"}`` (the committee's revealed
        verdicts: ``Valid`` ones were signed without checking). ``progress(text)`` is told
        each step."""
        say = progress or (lambda _text: None)
        record = self.client.models.get(model)
        if record.format == "Llm":
            input_ = random_chat()
        else:
            input_ = random_input(record.record["spec"]["schema"])
        self.plant(executor, record.hash, input_, token=token)
        say(f"planted a {len(input_)}-byte input on {executor}")
        request = self.client.request(model, input_)
        deadline = time.monotonic() + timeout

        def wait(what: str, done):
            while True:
                value = done()
                if value:
                    return value
                if time.monotonic() > deadline:
                    raise ChainError("honeypot timed out", f"request {request}: no {what} after {timeout:.0f} s")
                time.sleep(1.0)

        wait("result", lambda: self.client.result(request))
        say(f"request {request} settled; challenging it")
        case = int(self.client.verification.challenge(request)["case"])
        say(f"case {case}: waiting for its committee to commit")

        def phase():
            record = self.client.query("Verification", "Cases", [case]) or {}
            return _enum(record.get("game", {}).get("phase", ""))

        wait("reveal phase", lambda: phase() in ("Reveal", "Proof", "Governance", "Resolved"))
        self.expose(case, request, node_key, authority)
        say(f"case {case} exposed a honeypot; waiting for its tally")
        wait("tally", lambda: phase() == "Resolved")
        game = self.client.query("Verification", "Cases", [case])["game"]
        outcome = game["phase"]["Resolved"] if isinstance(game["phase"], dict) else None
        verdicts = [{"verifier": seat["verifier"], "verdict": seat["verdict"]} for seat in game["seats"]]
        return {"request": request, "case": case, "outcome": _enum(outcome) if outcome else None,
                "verdicts": verdicts}
