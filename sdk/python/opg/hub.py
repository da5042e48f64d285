"""The chain's registries as the client drives them: the model hub (:class:`Models`),
payment channels (:class:`Channels`) and the node registry (:class:`Nodes`), with the
argument shapes substrate-interface needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opg import messages
from opg.types import CHANNEL_BLOCKS, DEFAULT_MIN_DEPOSIT, MODES, OPG, ROLES, ChainError, Channel, Model

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
