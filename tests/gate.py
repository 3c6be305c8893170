"""A run that lasts until the test says so (the ``gate`` fixture of tests/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

# A server whose functions may fetch() the test's Gate on loopback.
GATE_ENV = {"VORTEX_FETCH_ALLOW_PRIVATE": "1"}


class Gate:
    """A run that lasts until the test says so: its fetch() of this local endpoint answers only
    once the gate is opened. Tests wait for the run to reach the gate (it is then on its host)
    instead of sleeping, and a neighbour that must still be running when something else ends
    is one whatever the machine's load."""

    def __init__(self) -> None:
        self.url = ""  # known once the gate's server listens
        self._arrivals: asyncio.Queue[None] = asyncio.Queue()
        self._opened = asyncio.Event()

    @property
    def code(self) -> str:
        """A function that returns ``'opened'`` once the gate opens (deploy it with
        ``allow_hosts=["127.0.0.1"]`` on a server with ``GATE_ENV``)."""
        return f"const r = await fetch('{self.url}'); Vortex.return(await r.text())"

    async def arrival(self, within: float = 15.0) -> None:
        """Wait until one more run has reached the gate."""
        await asyncio.wait_for(self._arrivals.get(), within)

    def open(self) -> None:
        self._opened.set()

    async def handle(self, request: web.Request) -> web.Response:
        self._arrivals.put_nowait(None)
        await self._opened.wait()
        return web.Response(text="opened")


@contextlib.asynccontextmanager
async def serve_gate() -> AsyncIterator[Gate]:
    """A gate listening on loopback; opened on exit, so that no run waits on."""
    opened = Gate()
    app = web.Application()
    app.router.add_get("/", opened.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    opened.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield opened
    finally:
        opened.open()
        await runner.cleanup()
