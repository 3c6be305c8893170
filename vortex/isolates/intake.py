"""How a host takes in the functions listener's connections: the supervisor passes each over
the host's hand-off channel (SCM_RIGHTS), with the bytes it read of it, if any (dispatch.py
reads none; listener.py, with dedicated hosts, reads the first head). Past the host's limits a
connection is closed unread (``FunctionServer.admit``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import sys
from typing import Any

from vortex.isolates.handoff import FDS_PER_MESSAGE, MAX_FIRST_BYTES
from vortex.isolates.httpserve import FunctionServer, HttpConnection


class Intake:
    """Every connection a host serves comes in here."""

    def __init__(self, loop: asyncio.AbstractEventLoop, server: FunctionServer) -> None:
        self._loop = loop
        self._server = server
        self._connecting: set[asyncio.Task[Any]] = set()
        self.shed = 0
        """Connections closed unserved: past the host's limits (``FunctionServer.admit``)."""

    # -- hand-offs from the supervisor ----------------------------------------------------------
    def take_handoffs(self, channel: socket.socket) -> None:
        """Serve the connections the supervisor hands over on ``channel`` (SCM_RIGHTS), each
        with the bytes it already read from it (none, but with dedicated hosts)."""
        channel.setblocking(False)
        self._loop.add_reader(channel.fileno(), self._received, channel)

    def _received(self, channel: socket.socket) -> None:
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(
                    channel, MAX_FIRST_BYTES, FDS_PER_MESSAGE
                )
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._loop.remove_reader(channel.fileno())
                return
            if not fds:
                if not data:  # the supervisor is gone
                    self._loop.remove_reader(channel.fileno())
                    return
                continue
            for fd in fds:  # several only when none of them was read (data is then empty)
                received = socket.socket(fileno=fd)
                try:
                    peer = received.getpeername()
                except OSError:
                    peer = None
                self.serve(received, data, str(peer[0]) if isinstance(peer, tuple) else "")

    def serve(self, connection: socket.socket, data: bytes, address: str) -> None:
        server = self._server
        if not server.admit(address):
            # Past its limits (slow clients holding connections open, say): closed unread, until
            # connections end or their heads time out (VORTEX_FUNCTIONS_HEADER_TIMEOUT_MS).
            connection.close()
            self.shed += 1
            if self.shed == 1 or self.shed % 1000 == 0:
                _say(
                    f"functions listener: {server.held} connections open already "
                    f"({server.held_by(address)} from {address}); {self.shed} shed"
                )
            return
        connection.setblocking(False)
        protocol = HttpConnection(server, data, address)
        make_transport = getattr(self._loop, "_make_socket_transport", None)
        if make_transport is not None:
            # What connect_accepted_socket does at its heart, without its task, its waiter and
            # their wake-ups: six turns of the loop per connection, each with the turn clock's
            # bookkeeping, became two (in a burst of 2,600 connections a host ran 28,125
            # turns, ten per request). Private to asyncio's selector loops (3.4 to 3.13 alike);
            # without it, the public way.
            try:
                make_transport(connection, protocol)
            except OSError:  # the client is gone already
                connection.close()
                server.release(address)
            return
        # Held until done: the loop keeps only weak references to tasks, and one collected
        # while it waits would lose its connection without a word.
        task = self._loop.create_task(
            self._loop.connect_accepted_socket(lambda: protocol, connection)
        )
        self._connecting.add(task)
        task.add_done_callback(functools.partial(self._connected, address))

    def _connected(self, address: str, task: asyncio.Task[Any]) -> None:
        self._connecting.discard(task)
        if task.cancelled() or task.exception() is not None:
            self._server.release(address)  # never served: its place is free again


def _say(line: str) -> None:
    # A host's stderr is the server's: the line lands in the operator's log.
    print(f"vortex host {os.getpid()}: {line}", file=sys.stderr, flush=True)
