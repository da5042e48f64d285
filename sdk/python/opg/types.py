"""The SDK's words: OPG's units and flags, its errors, and what the chain and a check
return (models, settled results, channels, verdicts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from opg import messages

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

    @property
    def tolerance(self) -> tuple[float, float] | None:
        """A float model's published tolerance ``(absolute, relative)``, by which
        verification nodes judge its results; ``None``: judged by their bytes."""
        return tolerance_from_chain(self.record["spec"].get("tolerance"))


PPB = 1_000_000_000
"""The denominator of a tolerance's bounds on chain (billionths)."""


def tolerance_to_chain(tolerance) -> dict | None:
    """``(absolute, relative)`` as the model hub stores it: integer billionths, each at
    most 4.294967295; ``ValueError`` for a negative, non-finite or larger bound."""
    if tolerance is None:
        return None
    absolute, relative = tolerance
    bounds = []
    for name, value in (("absolute", absolute), ("relative", relative)):
        ppb = float(value) * PPB
        if not (0 <= ppb <= 0xFFFF_FFFF):
            raise ValueError(f"a tolerance's {name} bound is between 0 and 4.294967295, not {value}")
        bounds.append(round(ppb))
    return {"absolute_ppb": bounds[0], "relative_ppb": bounds[1]}


def tolerance_from_chain(value) -> tuple[float, float] | None:
    """The stored tolerance (``{"absolute_ppb", "relative_ppb"}`` or ``None``) as floats."""
    if not value:
        return None
    return int(value["absolute_ppb"]) / PPB, int(value["relative_ppb"]) / PPB


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


@dataclass
class Channel:
    """A payment channel as this client tracks it: ``spent`` is the charged total the
    last paid answer reported (the next voucher's cumulative amount builds on it)."""

    id: int
    node: bytes
    deposit: int
    spent: int = 0
