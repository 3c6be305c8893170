"""Connections of the functions listener on their way to a host: the supervisor's end of the
SEQPACKET pair each host is started with.

One message per connection: the bytes the supervisor already read, with the socket itself
(SCM_RIGHTS); or once, the listening socket, for a host that accepts itself (``share``). The
pair's queue is short (``net.unix.max_dgram_qlen``, 10 by default), so in a burst most
hand-offs find it full; they wait here, in order, behind one writer callback, and
are sent as the host reads. (One waiter per hand-off on the same descriptor does not work:
``add_writer`` keeps one callback per descriptor, and a burst of 1,000 connections lost a third
of them that way, never answered.)
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque

LISTENING = b"\0listening"
"""The bytes sent with the listening socket itself (``share``): a handed-over connection's
bytes begin with an HTTP method, never with a NUL."""
MAX_FIRST_BYTES = 256 << 10
"""The most bytes the supervisor reads of a connection before it hands it over (listener.py)."""


class Handoffs:
    def __init__(self, channel: socket.socket) -> None:
        channel.setblocking(False)
        self.channel = channel
        self._waiting: deque[tuple[socket.socket, bytes]] = deque()
        self._writer = False
        self._closed = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def send(self, connection: socket.socket, data: bytes) -> None:
        """Pass ``connection`` (now owned here: closed once the host has its own descriptor)
        with the bytes already read from it; raises ConnectionError when the host is gone."""
        if self._closed:
            connection.close()
            raise ConnectionError("the host is gone")
        if not self._waiting and self._send_one(connection, data):
            return
        self._waiting.append((connection, data))
        if not self._writer:
            asyncio.get_running_loop().add_writer(self.channel.fileno(), self._drain)
            self._writer = True

    def share(self, listening: socket.socket) -> None:
        """Let the host accept from the functions listener's socket itself (accept.py): it gets
        the same socket, with the same queue, and the supervisor keeps its own descriptor."""
        self.send(listening.dup(), LISTENING)

    def _send_one(self, connection: socket.socket, data: bytes) -> bool:
        """Whether it left (the host's queue had room); a dead host's connection is dropped."""
        try:
            socket.send_fds(self.channel, [data], [connection.fileno()])
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            self.close()  # the host is gone: the client sees its connection closed
        connection.close()
        return True

    def _drain(self) -> None:
        while self._waiting:
            connection, data = self._waiting[0]
            if not self._send_one(connection, data):
                return
            if self._waiting:
                self._waiting.popleft()
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
            self._waiting.popleft()[0].close()
        self.channel.close()
