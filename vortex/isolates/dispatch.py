"""The functions listener's front door without dedicated hosts: accept, and pass each connection
to the next active host at once, before a byte of it is read.

With any host able to serve any function, the supervisor has no reason to read a connection's
first head (listener.py does, with dedicated hosts, to learn the namespace): it accepts and
hands the socket over (``HostProcess.hand_off``, SCM_RIGHTS), in turn, so the hosts share the
connections evenly (32 keep-alive clients: 16 each), and a host being retired gets none. The
host reads, parses, runs and answers every request of it (intake.py, httpserve.py), its own
refusals, header timeouts and access records included.

This costs the supervisor an accept per connection and a send per batch of them (``Handoffs``),
and nothing once requests come: for a burst of 10,000 connections that send their requests
together, the supervisor spent 0.81–0.90 s of CPU when it read their heads, 0.35–0.46 s this
way, the runs' records included (bench/burstcpu.py). (Hosts accepting from one shared socket
themselves cost it nothing, but one host took all 32 connections of a wrk run while the other
idled; with SO_REUSEPORT sockets of their own, connections waiting in a retired host's queue
are reset.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable

from vortex.isolates.host_process import HostProcess
from vortex.isolates.listener import bind, pending_limit

log = logging.getLogger(__name__)

ACCEPTS_PER_WAKE = 1024
"""Connections accepted in one turn of the supervisor's loop at most: a burst of thousands is
taken in a few turns, with the API's requests served between them."""
PAUSE = 0.01
"""Seconds accepting waits while ``max_waiting`` connections wait for hosts to take them."""

NextHost = Callable[[], HostProcess | None]
"""The active host to take the next connection, or None when none is up."""
WaitForHost = Callable[[], Awaitable[HostProcess]]
"""An active host once there is one (hosts being replaced); raises when none comes in time."""


class Dispatcher:
    def __init__(
        self,
        host: str,
        port: int,
        next_host: NextHost,
        wait_for_host: WaitForHost,
        max_waiting: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._next_host = next_host
        self._wait_for_host = wait_for_host
        self._homeless: list[socket.socket] = []
        """Connections accepted while no host was up: they wait for one (``_rehome``)."""
        self._rehoming: asyncio.Task[None] | None = None
        self.max_waiting = pending_limit() if max_waiting is None else max_waiting
        """Connections waiting for their host to take them, at most (hosts busy with a burst
        read their hand-offs between turns); past it the rest wait in the kernel's queue."""
        self._waiting: Callable[[], int] = lambda: 0
        self._socket: socket.socket | None = None
        self._paused: asyncio.TimerHandle | None = None
        self.dropped = 0
        """Connections closed unserved: no host came in time to take them."""

    def count_waiting(self, waiting: Callable[[], int]) -> None:
        """How many connections wait in the hosts' hand-off queues now (``Handoffs.waiting``)."""
        self._waiting = waiting

    async def start(self) -> None:
        self._socket = bind(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        asyncio.get_running_loop().add_reader(self._socket.fileno(), self._accept)

    async def close(self) -> None:
        sock, self._socket = self._socket, None
        if self._paused is not None:
            self._paused.cancel()
        elif sock is not None:
            asyncio.get_running_loop().remove_reader(sock.fileno())
        if sock is not None:
            sock.close()
        if self._rehoming is not None:
            self._rehoming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rehoming
        self._drop_homeless()

    def _accept(self) -> None:
        sock = self._socket
        if sock is None:
            return
        for _ in range(ACCEPTS_PER_WAKE):
            if self._waiting() + len(self._homeless) >= self.max_waiting:
                self._pause(sock)
                return
            try:
                connection, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of file descriptors, say: the queued connections wait for a later turn.
                log.warning("functions listener could not accept: %s", exc)
                self._pause(sock)
                return
            host = None if self._homeless else self._next_host()
            if host is None:
                # Every host is being replaced (killed at a limit, say): the connection waits
                # for one, as a run waits for a host, rather than being closed unanswered.
                self._homeless.append(connection)
                if self._rehoming is None:
                    self._rehoming = asyncio.create_task(self._rehome())
                continue
            try:
                host.hand_off(connection, b"")  # the connection is the host's from here on
            except ConnectionError:  # the host went meanwhile
                self._drop(connection)

    async def _rehome(self) -> None:
        try:
            while self._homeless:
                host = await self._wait_for_host()
                homeless, self._homeless = self._homeless, []
                for connection in homeless:
                    try:
                        host.hand_off(connection, b"")
                    except ConnectionError:
                        self._drop(connection)
        except Exception as exc:  # no host came in time (PoolUnavailable), or the pool closes
            log.warning("functions listener: no host to take connections: %s", exc)
            self._drop_homeless()
        finally:
            self._rehoming = None

    def _drop_homeless(self) -> None:
        homeless, self._homeless = self._homeless, []
        for connection in homeless:
            self._drop(connection)

    def _pause(self, sock: socket.socket) -> None:
        # The socket stays readable while connections queue: watched, it would wake the loop
        # at once, again and again.
        loop = asyncio.get_running_loop()
        loop.remove_reader(sock.fileno())
        self._paused = loop.call_later(PAUSE, self._resume)

    def _resume(self) -> None:
        self._paused = None
        if self._socket is not None:
            asyncio.get_running_loop().add_reader(self._socket.fileno(), self._accept)
            self._accept()

    def _drop(self, connection: socket.socket) -> None:
        connection.close()
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            log.warning("functions listener: %d connections closed with no host", self.dropped)
