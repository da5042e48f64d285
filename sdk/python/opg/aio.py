"""The async twin of :class:`opg.client.Client`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from opg import gateway as gw
from opg.types import ChainError, EvidenceError, Result, Verdict

if TYPE_CHECKING:
    from opg.client import Client

class AsyncClient:
    """The async twin of :class:`Client`: the same calls as coroutines.

    substrate-interface is synchronous, so each chain or gateway call runs in a worker
    thread, one at a time per client (they share one WebSocket); waiting for a settlement
    (:meth:`infer`) releases the client between polls, so other calls go on meanwhile.
    Open one with ``client = await AsyncClient.connect(url, signer, gateway=...)``.
    """

    def __init__(self, client: Client):
        import asyncio

        self.sync = client
        self._lock = asyncio.Lock()
        self.models = _AsyncPart(self, client.models)
        self.channels = _AsyncPart(self, client.channels)
        self.nodes = _AsyncPart(self, client.nodes)
        self.verification = _AsyncPart(self, client.verification)
        self.honeypots = _AsyncPart(self, client.honeypots)

    @classmethod
    async def connect(cls, url: str = "ws://127.0.0.1:9944", signer=None, **options) -> "AsyncClient":
        import asyncio

        from opg.client import Client

        return cls(await asyncio.to_thread(Client, url, signer, **options))

    async def _run(self, function, *args, **kwargs):
        import asyncio

        async with self._lock:
            return await asyncio.to_thread(function, *args, **kwargs)

    @property
    def genesis(self) -> bytes:
        return self.sync.genesis

    async def close(self) -> None:
        await self._run(self.sync.close)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *_) -> None:
        await self.close()

    async def request(self, model: int, input_: bytes, **options) -> int:
        return await self._run(self.sync.request, model, input_, **options)

    async def result(self, request: int, **options) -> Result | None:
        return await self._run(self.sync.result, request, **options)

    async def infer(self, model: int, input_: bytes, *, mode: str = "Vanilla", settlement: str = "Individual",
                    max_fee: int | None = None, window: int = 20, timeout: float = 180.0,
                    verify: bool = True) -> Result:
        """As :meth:`Client.infer`."""
        import asyncio

        request = await self.request(model, input_, mode=mode, settlement=settlement, max_fee=max_fee, window=window)
        deadline = time.monotonic() + timeout
        while (result := await self.result(request, model=model, input_=input_)) is None:
            if time.monotonic() > deadline:
                raise ChainError("not settled", f"request {request} not settled after {timeout:.0f} s")
            await asyncio.sleep(1.0)
        if verify:
            verdict = await self.verify(result)
            if not verdict:
                raise EvidenceError(verdict)
        return result

    async def direct(self, model, input_: bytes, **options) -> gw.DirectAnswer:
        """As :meth:`Client.direct`."""
        return await self._run(self.sync.direct, model, input_, **options)

    async def verify(self, answer) -> Verdict:
        """As :meth:`Client.verify`."""
        return await self._run(self.sync.verify, answer)


class _AsyncPart:
    """:class:`Client`'s ``models``, ``channels``, ``nodes`` or ``verification``, their methods as coroutines."""

    def __init__(self, owner: AsyncClient, part):
        self._owner = owner
        self._part = part

    def __getattr__(self, name: str):
        attribute = getattr(self._part, name)
        if not callable(attribute):
            return attribute

        async def call(*args, **kwargs):
            return await self._owner._run(attribute, *args, **kwargs)

        call.__doc__ = attribute.__doc__
        return call
