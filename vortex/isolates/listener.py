"""The functions listener's front door, in the supervisor: accept, learn the hostname, hand over.

Function traffic has its own port (and its own origin per function: ``hello.localhost:8787``).
The supervisor accepts each connection, reads its first request head (only the head: the
hostname is all it needs), picks the host that will serve it (any host, or with dedicated hosts
one of the function's namespace) and passes the socket with the bytes it read to that host
(``HostProcess.hand_off``, SCM_RIGHTS). From then on every request of the connection is parsed,
run and answered in the host (httpserve.py); the supervisor's cost is per connection, not per
request. A hostname that names no function is answered here (404), and the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import httptools
import orjson

from vortex.isolates.host_process import HostProcess

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 << 10
LISTEN_BACKLOG = 4096
LINGER = 2.0
"""Seconds a refused connection is still read (and what comes dropped) before it closes."""


class Refusal(Exception):
    """A connection is answered by the supervisor with this error and closed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


PickHost = Callable[[str], Awaitable[HostProcess]]
"""The host to serve a connection whose first request names this hostname; raises Refusal."""


class _Head:
    """httptools callbacks that keep only the Host header and whether the head is complete."""

    def __init__(self) -> None:
        self.host = ""
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.host and name.lower() == b"host":
            self.host = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.complete = True


def hostname_of(host_header: str) -> str:
    """``Hello.localhost:8787`` → ``hello.localhost`` (the name a route is kept under)."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0].lower() + "]"
    return host_header.rsplit(":", 1)[0].lower().rstrip(".")


class FunctionsListener:
    def __init__(self, host: str, port: int, pick_host: PickHost, head_timeout: float) -> None:
        self.host = host
        self.port = port
        self._pick_host = pick_host
        self._head_timeout = head_timeout
        self._socket: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        sock = socket.create_server(
            (self.host, self.port), backlog=LISTEN_BACKLOG, reuse_port=False
        )
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        asyncio.get_running_loop().add_reader(sock.fileno(), self._accept)

    async def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock.fileno())
            sock.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _accept(self) -> None:
        sock = self._socket
        if sock is None:
            return
        # Everything waiting, in one wake-up: a burst of thousands of clients arrives at once.
        while True:
            try:
                connection, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of file descriptors, say: the queued connections wait for the next turn.
                log.warning("functions listener could not accept: %s", exc)
                return
            connection.setblocking(False)
            task = asyncio.create_task(self._serve(connection))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, connection: socket.socket) -> None:
        try:
            data, host_header = await asyncio.wait_for(
                self._read_head(connection), self._head_timeout
            )
            if data is None:
                connection.close()
                return
            host = await self._pick_host(hostname_of(host_header))
        except Refusal as refusal:
            await self._answer(connection, refusal)
            connection.close()
            return
        except (TimeoutError, ConnectionError, OSError):
            connection.close()
            return
        with contextlib.suppress(ConnectionError):
            host.hand_off(connection, data)  # the connection is the host's from here on

    async def _read_head(self, connection: socket.socket) -> tuple[bytes | None, str]:
        loop = asyncio.get_running_loop()
        head = _Head()
        parser = httptools.HttpRequestParser(head)
        received = bytearray()
        while not head.complete:
            chunk = await loop.sock_recv(connection, MAX_HEAD_BYTES)
            if not chunk:
                return None, ""
            received += chunk
            try:
                parser.feed_data(chunk)
            except httptools.HttpParserUpgrade:
                break
            except httptools.HttpParserError:
                raise Refusal(400, "bad_request", "The request is not valid HTTP/1.1") from None
            if len(received) > MAX_HEAD_BYTES and not head.complete:
                raise Refusal(431, "headers_too_large", "The request head is over 64 KiB")
        if not head.host:
            raise Refusal(
                400, "bad_request", "The request has no Host header: it names the function"
            )
        return bytes(received), head.host

    @staticmethod
    async def _answer(connection: socket.socket, refusal: Refusal) -> None:
        body = orjson.dumps({"error": {"code": refusal.code, "message": refusal.message}})
        head = (
            f"HTTP/1.1 {refusal.status} {HTTPStatus(refusal.status).phrase}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError, TimeoutError):
            await loop.sock_sendall(connection, head + body)
            # The client may still be sending its body: closing with bytes unread would reset
            # the connection, and the client could lose the answer. EOF, drop, then close.
            connection.shutdown(socket.SHUT_WR)
            async with asyncio.timeout(LINGER):
                while await loop.sock_recv(connection, 65536):
                    pass
