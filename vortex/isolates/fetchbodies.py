"""A fetched body on its way from the origin to the run, no faster than the run reads it.

At most ``WINDOW`` bytes of one body are in flight: sent to the host and not read by the run's
JavaScript yet. The host tells what its run read (``FetchPull``, when the body's stream is
pulled), and only then is more read from the origin; a run that reads slowly, or never, leaves
the rest in the origin's socket, not in the server's memory or the host's.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from vortex.isolates.protocol import FetchChunk, FetchEnd, ToHost
from vortex.isolates.subrequests import ResponseBody, SubrequestRefused

if TYPE_CHECKING:
    from vortex.isolates.host_process import HostProcess
    from vortex.isolates.invocation import Invocation

WINDOW = 1 << 20
CHUNK = 256 << 10
"""The most one ``FetchChunk`` carries: a run's stream gets the body in pieces of this size
at most, as it would from a socket."""


class Window:
    """The bytes of one body in flight to the host, and the wait for room."""

    __slots__ = ("_room", "in_flight")

    def __init__(self, in_flight: int) -> None:
        self.in_flight = in_flight
        self._room = asyncio.Event()

    def pulled(self, size: int) -> None:
        # A host can only say it read more than it got by lying; that gains it nothing but
        # its own window.
        self.in_flight = max(0, self.in_flight - max(0, size))
        if self.in_flight < WINDOW:
            self._room.set()

    async def room(self) -> int:
        while self.in_flight >= WINDOW:
            self._room.clear()
            await self._room.wait()
        return WINDOW - self.in_flight


async def send_body(
    host: HostProcess, invocation: Invocation, fid: int, body: ResponseBody, window: Window
) -> None:
    """Read ``body`` as the window makes room and send it, then its end (or what broke it).
    The caller closes ``body``: this is cancelled when the run ends or drops the fetch."""
    while True:
        most = min(await window.room(), CHUNK)
        try:
            data = await body.read(most)
        except SubrequestRefused as exc:
            _send(host, invocation, FetchEnd(invocation.id, fid, str(exc)))
            return
        if not data:
            _send(host, invocation, FetchEnd(invocation.id, fid))
            return
        if not _send(host, invocation, FetchChunk(invocation.id, fid, data)):
            return
        window.in_flight += len(data)


def _send(host: HostProcess, invocation: Invocation, frame: ToHost) -> bool:
    if not host.alive or invocation.id not in host.runs:
        return False
    host.send(frame)
    return True
