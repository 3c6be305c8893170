"""The WebSocket of a listener run, between JavaScript (harness/sockets.js) and its connection.

A run accepts at most one WebSocket: the one in its response (``accept``). What the client
sends enters the run as turns in the run's context (``RunSocketEvents``), as timers and fetch
results do (bridge.py), so the turn clock charges them to the run and its CPU limit and the
interrupter stop a handler that runs away. Workers bill CPU per message; here each message gives
the run its CPU limit afresh. The wall limit covers the run until its 101; while the socket is
open the socket's own lifetimes hold (wsconn.py), and once it closes the run has its wall limit
again to end.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import orjson

if TYPE_CHECKING:
    from vortex.isolates.bridge import Host

ACCEPTED = 0
NOT_ON_THE_LISTENER = 1
NOT_A_HANDSHAKE = 2
"""What ``accept`` answers JavaScript (numbers: no Python string crosses for it)."""


class LocalSocket(Protocol):
    """A run's end of its WebSocket connection (wsconn.py)."""

    def send(self, data: bytes | str) -> None: ...

    def close(self, code: int, reason: str) -> None: ...

    def delivered(self) -> None: ...

    def run_ended(self, failed: bool) -> None: ...


class RunSocketEvents:
    """What the connection tells the run of ``inv`` (wsconn.SocketEvents)."""

    __slots__ = ("_host", "_inv", "socket")

    def __init__(self, host: Host, inv: int) -> None:
        self._host = host
        self._inv = inv
        self.socket: LocalSocket | None = None

    def reading(self) -> None:
        self._host.on_behalf_of(self._inv)

    def message(self, data: bytes, text: bool) -> None:
        run = self._host.active.get(self._inv)
        if run is None:
            return
        run.cpu_before_s += run.cpu_s
        run.cpu_s = 0.0
        # Looked up here, outside the run's turn: a property read of the runtime that the run's
        # interrupt (CPU or memory) cuts short fails as a SystemError no handler expects, where
        # a cut-short call raises pythonmonkey's own error, which the host's loop ignores.
        dispatch = self._host.runtime.wsMessage
        asyncio.get_running_loop().call_soon(
            self._dispatch, dispatch, bytearray(data), text, context=run.context
        )

    def _dispatch(self, dispatch: Callable[..., object], data: bytearray, text: bool) -> None:
        try:
            dispatch(self._inv, text, data)
        finally:
            if self.socket is not None:
                # Outside the run: resuming the client's reads makes the transport's read
                # callback, which must not belong to the run (bridge.outside_runs).
                contextvars.Context().run(self.socket.delivered)

    def closing(self, code: int, reason: str) -> None:
        self._over("wsClosing", code, reason)

    def closed(self, code: int, reason: str, clean: bool) -> None:
        self._over("wsClosed", code, reason, clean)

    def _over(self, name: str, code: int, reason: str, *more: bool) -> None:
        run = self._host.active.get(self._inv)
        if run is None:
            return
        loop = asyncio.get_running_loop()
        if run.socket_open:
            # The run must end now, within its wall limit (armed after its next turn).
            run.socket_open = False
            run.wall_deadline = loop.time() + run.wall_ms / 1000
        loop.call_soon(
            getattr(self._host.runtime, name),
            self._inv,
            code,
            bytearray(reason.encode()),
            *more,
            context=run.context,
        )


def accept(host: Host, inv: int, head: str) -> int:
    """The run answered 101 with a WebSocket (``head`` has its headers): ``ACCEPTED`` once its
    connection is a WebSocket, or why not."""
    local = host.local.get(inv)
    run = host.active.get(inv)
    if local is None or run is None:
        return NOT_ON_THE_LISTENER
    events = RunSocketEvents(host, inv)
    headers = orjson.loads(head).get("headers") or []
    socket: LocalSocket | None = local.responder.upgrade(headers, events)
    if socket is None:
        return NOT_A_HANDSHAKE
    events.socket = local.socket = socket
    run.socket_open = True
    if run.wall_timer is not None:
        run.wall_timer.cancel()
        run.wall_timer = None
    return ACCEPTED
