"""The functions listener's connections accepted by the hosts themselves (the default, but with
dedicated hosts), and those the supervisor hands over (listener.py): how a host takes them in.

The supervisor binds the listening socket and shares it with each active host (the same socket:
one accept queue, ``Handoffs.share``). A host accepts when its loop is free, a few connections
per wake-up, so a host in a long turn leaves new connections to the others. A retired host
stops accepting and closes its copy; connections still waiting in the queue stay there for the
others. (Sockets of their own with SO_REUSEPORT would each have a queue of their own, and the
connections waiting in a closed one are reset.)

Compared with the supervisor accepting, reading the first head and passing each connection on
(SCM_RIGHTS), a connection costs one process instead of two: in a burst of 10,000 connections
that was 0.81 s of the supervisor's CPU, on a machine whose two cores also run the hosts.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import sys
from typing import Any

from vortex.isolates.handoff import LISTENING, MAX_FIRST_BYTES
from vortex.isolates.httpserve import FunctionServer, HttpConnection

ACCEPTS_PER_WAKE = 16
"""Connections a host accepts per wake-up: the rest wait for the next turn of its loop, or for
another host, so that no host takes a whole burst while the others idle."""


class Intake:
    """Every connection a host serves comes in here: from its own accepts, or handed over."""

    def __init__(self, loop: asyncio.AbstractEventLoop, server: FunctionServer) -> None:
        self._loop = loop
        self._server = server
        self._listening: socket.socket | None = None
        self._connecting: set[asyncio.Task[Any]] = set()
        self.shed = 0
        """Connections closed unserved: past the host's limits (``FunctionServer.admits``)."""

    # -- the shared listening socket ------------------------------------------------------------
    def listen(self, listening: socket.socket) -> None:
        if self._listening is not None or self._server.draining:
            listening.close()
            return
        listening.setblocking(False)
        self._listening = listening
        self._loop.add_reader(listening.fileno(), self._accept)

    def stop_accepting(self) -> None:
        """Retired: the connections in the queue are left to the other hosts."""
        listening, self._listening = self._listening, None
        if listening is not None:
            self._loop.remove_reader(listening.fileno())
            listening.close()

    def _accept(self) -> None:
        listening = self._listening
        if listening is None:
            return
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                connection, peer = listening.accept()
            except (BlockingIOError, InterruptedError):
                return  # another host took it
            except OSError as exc:
                # Out of descriptors, say: the connection waits in the queue for a turn when
                # this host has room again, or for another host.
                _say(f"functions listener could not accept: {exc}")
                return
            address = str(peer[0]) if isinstance(peer, tuple) else ""
            self.serve(connection, b"", address)

    # -- hand-offs from the supervisor ----------------------------------------------------------
    def take_handoffs(self, channel: socket.socket) -> None:
        """Serve the connections the supervisor hands over on ``channel`` (SCM_RIGHTS), each
        with the bytes it already read from it; or take the listening socket it shares."""
        channel.setblocking(False)
        self._loop.add_reader(channel.fileno(), self._received, channel)

    def _received(self, channel: socket.socket) -> None:
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(channel, MAX_FIRST_BYTES, 1)
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
            received = socket.socket(fileno=fds[0])
            if data == LISTENING:
                self.listen(received)
                continue
            try:
                peer = received.getpeername()
            except OSError:
                peer = None
            self.serve(received, data, str(peer[0]) if isinstance(peer, tuple) else "")

    # -- either way -----------------------------------------------------------------------------
    def serve(self, connection: socket.socket, data: bytes, address: str) -> None:
        if not self._server.admits(address, len(self._connecting)):
            # Past its limits (slow clients holding connections open, say): closed unread, until
            # connections end or their heads time out (VORTEX_FUNCTIONS_HEADER_TIMEOUT_MS).
            connection.close()
            self.shed += 1
            if self.shed == 1 or self.shed % 1000 == 0:
                _say(
                    f"functions listener: {len(self._server.connections)} connections open "
                    f"already ({self._server.held_by(address)} from {address}); "
                    f"{self.shed} shed"
                )
            return
        connection.setblocking(False)
        # Held until done: the loop keeps only weak references to tasks, and one collected
        # while it waits would lose its connection without a word.
        task = self._loop.create_task(
            self._loop.connect_accepted_socket(
                functools.partial(HttpConnection, self._server, data), connection
            )
        )
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)


def _say(line: str) -> None:
    # A host's stderr is the server's: the line lands in the operator's log.
    print(f"vortex host {os.getpid()}: {line}", file=sys.stderr, flush=True)
