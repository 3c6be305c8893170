"""Connections of the functions listener on their way to a host: the supervisor's end of the
SEQPACKET pair each host is started with.

One message per connection: the bytes the supervisor already read, with the socket itself
(SCM_RIGHTS): none with the dispatcher (dispatch.py), the first head with dedicated hosts
(listener.py). The pair's queue is short (``net.unix.max_dgram_qlen``, 10 by default), so in a
burst most hand-offs find it full; they wait here, in order, behind one writer callback, and are
sent as the host reads. (One waiter per hand-off on the same descriptor does not work:
``add_writer`` keeps one callback per descriptor, and a burst of 1,000 connections lost a third
of them that way, never answered.)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
from collections import deque

MAX_FIRST_BYTES = 256 << 10
"""The most bytes the supervisor reads of a connection before it hands it over (listener.py)."""
FDS_PER_MESSAGE = 128
"""Unread connections passed in one message at most (the kernel's limit is 253); the host reads
with room for as many."""


class Handoffs:
    def __init__(self, channel: socket.socket) -> None:
        channel.setblocking(False)
        self.channel = channel
        self._waiting: deque[tuple[list[socket.socket], bytes]] = deque()
        self._count = 0
        """Connections in ``_waiting`` and ``_unread``."""
        self._unread: list[socket.socket] = []
        self._writer = False
        self._closed = False

    @property
    def waiting(self) -> int:
        return self._count

    def send(self, connection: socket.socket, data: bytes) -> None:
        """Pass ``connection`` (now owned here: closed once the host has its own descriptor)
        with the bytes already read from it; raises ConnectionError when the host is gone."""
        self._queue([connection], data)

    def send_unread(self, connection: socket.socket) -> None:
        """Pass ``connection``, nothing of it read, with the others of this turn of the loop:
        up to ``FDS_PER_MESSAGE`` in one message (one system call each side, not one per
        connection: a burst's connections are handed over as fast as they are accepted)."""
        if self._closed:
            connection.close()
            raise ConnectionError("the host is gone")
        if not self._unread:
            contextvars.Context().run(asyncio.get_running_loop().call_soon, self._send_unread)
        self._unread.append(connection)
        self._count += 1

    def _send_unread(self) -> None:
        unread, self._unread = self._unread, []
        self._count -= len(unread)
        for first in range(0, len(unread), FDS_PER_MESSAGE):
            with contextlib.suppress(ConnectionError):  # closed with the host's channel
                self._queue(unread[first : first + FDS_PER_MESSAGE], b"")

    def _queue(self, connections: list[socket.socket], data: bytes) -> None:
        if self._closed:
            for connection in connections:
                connection.close()
            raise ConnectionError("the host is gone")
        if not self._waiting and self._send_one(connections, data):
            return
        self._waiting.append((connections, data))
        self._count += len(connections)
        if not self._writer:
            asyncio.get_running_loop().add_writer(self.channel.fileno(), self._drain)
            self._writer = True

    def _send_one(self, connections: list[socket.socket], data: bytes) -> bool:
        """Whether they left (the host's queue had room); a dead host's connections are
        dropped."""
        try:
            socket.send_fds(self.channel, [data], [c.fileno() for c in connections])
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            self.close()  # the host is gone: its clients see their connections closed
        for connection in connections:
            connection.close()
        return True

    def _drain(self) -> None:
        while self._waiting:
            connections, data = self._waiting[0]
            if not self._send_one(connections, data):
                return
            if self._waiting:
                self._waiting.popleft()
                self._count -= len(connections)
        self._stop_writing()

    def _stop_writing(self) -> None:
        if self._writer:
            self._writer = False
            asyncio.get_running_loop().remove_writer(self.channel.fileno())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_writing()
        while self._waiting:
            for connection in self._waiting.popleft()[0]:
                connection.close()
        for connection in self._unread:
            connection.close()
        self._unread = []
        self._count = 0
        self.channel.close()
