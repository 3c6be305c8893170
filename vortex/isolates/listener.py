"""The functions listener's front door, in the supervisor: accept, learn the hostname, hand over.

Used with dedicated hosts; without them any host serves any function, and dispatch.py passes
each connection on before reading it.
Function traffic has its own port (and its own origin per function: ``hello.localhost:8787``).
The supervisor accepts each connection, reads its first request head (only the head: the
hostname is all it needs), picks the host that will serve it (any host, or with dedicated hosts
one of the function's namespace) and passes the socket with the bytes it read to that host
(``HostProcess.hand_off``, SCM_RIGHTS). From then on every request of the connection is parsed,
run and answered in the host (httpserve.py); the supervisor's cost is per connection, not per
request. A hostname that names no function is answered here (404), and the connection closed.
Such a refusal, and a first head that times out (408) or that the client leaves (499), gets its
access record here (``on_access``); the hosts make those of the requests they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from http import HTTPStatus
from typing import Any

import httptools
import orjson

from vortex.isolates.access import (
    CLIENT_CLOSED,
    HEADER_TIMEOUT,
    OnAccess,
    hostname_of,
    logged_path,
)
from vortex.isolates.host_process import HostProcess
from vortex.isolates.hostheader import authority_of, host_problem
from vortex.isolates.protocol import AccessRecord

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 << 10
LISTEN_BACKLOG = 4096
MAX_PENDING = 16384
"""Connections read at once for their first head, at most (``pending_limit``)."""
FD_RESERVE = 512
"""Open files kept for everything else the server does, however many clients connect."""
LINGER = 2.0
"""Seconds a refused connection is still read (and what comes dropped) before it closes."""
NO_HOST = "pool_unavailable"
"""The access record's error when no host could take a connection (it is closed unanswered)."""


class Refusal(Exception):
    """A connection is answered by the supervisor with this error and closed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


PickHost = Callable[[str], Awaitable[HostProcess]]
"""The host to serve a connection whose first request names this hostname; raises Refusal."""

PickHostNow = Callable[[str], HostProcess | None]
"""The same answer when it is known without waiting (a hostname seen before), else None."""


class _Head:
    """httptools callbacks that keep only the target, the Host header and whether the head is
    complete."""

    def __init__(self) -> None:
        self.host = ""
        self.host_lines = 0
        self.target = b""
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"host":
            self.host = value.decode("latin-1")
            self.host_lines += 1

    def on_headers_complete(self) -> None:
        self.complete = True


class _Reading:
    """A connection whose first head is not all in yet."""

    __slots__ = (
        "address",
        "connection",
        "head",
        "parser",
        "received",
        "started",
        "timer",
        "watched",
    )

    def __init__(self, connection: socket.socket, address: str) -> None:
        self.connection = connection
        self.started = time.perf_counter()
        self.address = address
        self.head = _Head()
        self.parser = httptools.HttpRequestParser(self.head)
        self.received = bytearray()
        self.timer: asyncio.TimerHandle | None = None
        self.watched = False


class CannotListen(Exception):
    """The functions listener's address could not be bound (taken, or not this machine's)."""


def bind(host: str, port: int) -> socket.socket:
    """The functions listener's socket, listening (port 0: any free one)."""
    try:
        sock = socket.create_server((host, port), backlog=LISTEN_BACKLOG, reuse_port=False)
    except OSError as exc:
        # Raised while the app starts, where it would pass for the API port's failure.
        raise CannotListen(
            f"cannot listen on {host}:{port} for the functions listener: "
            f"{exc.strerror or exc} (choose another with --functions-port or "
            "VORTEX_FUNCTIONS_PORT, or 0 for none)"
        ) from None
    sock.setblocking(False)
    return sock


def pending_limit(reserve: int = FD_RESERVE) -> int:
    """How many connections the supervisor may hold while it reads their heads: its open files
    less a reserve for the API, /health, storage and the hosts' pipes."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_PENDING
    return max(64, min(MAX_PENDING, soft - reserve))


def _not_known(hostname: str) -> HostProcess | None:
    return None


def _not_logged(record: AccessRecord) -> None:
    pass


def _record(reading: _Reading, status: int, error: str | None = None) -> AccessRecord:
    """The access record of a connection's first request, answered (or not) here."""
    try:
        method = reading.parser.get_method().decode("ascii", "replace")
    except httptools.HttpParserError:
        method = ""  # not HTTP, or its method not read yet
    return AccessRecord(
        method,
        logged_path(reading.head.target),
        status,
        round((time.perf_counter() - reading.started) * 1000, 3),
        hostname_of(reading.head.host),
        error=error,
    )


class FunctionsListener:
    """Per connection, the common case is synchronous: the head is read as soon as the socket is
    readable (at accept, usually, or from one reader callback), and a hostname seen before goes
    to its host at once. A burst of 10,000 connections spent 187 µs of the supervisor's CPU per
    connection on a task, a ``wait_for`` and ``sock_recv``'s futures each; only a hostname not
    seen yet, or a refusal, takes a task now."""

    def __init__(
        self,
        host: str,
        port: int,
        pick_host: PickHost,
        head_timeout: float,
        max_pending: int | None = None,
        pick_host_now: PickHostNow = _not_known,
        on_access: OnAccess = _not_logged,
    ) -> None:
        self.host = host
        self.port = port
        self._pick_host = pick_host
        self._pick_host_now = pick_host_now
        self._on_access = on_access
        self._head_timeout = head_timeout
        self.max_pending = pending_limit() if max_pending is None else max_pending
        self.reserved = self.max_pending // 4
        """The last quarter of ``max_pending`` is kept for addresses holding less than a quarter
        of it: one address cannot take the listener from the others, while a burst from one
        (a load generator's 10,000 connections that send later) still fits below it."""
        self._slow_from: Counter[str] = Counter()
        """Heads being read (watched: not all in at once), per client address."""
        self.shed = 0
        """Connections closed at once because ``max_pending`` were being read already."""
        self._socket: socket.socket | None = None
        self._reading: dict[int, _Reading] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Connections the supervisor holds: heads being read, hosts being picked, refusals."""
        return len(self._reading) + len(self._tasks)

    async def start(self) -> None:
        sock = bind(self.host, self.port)
        self._socket = sock
        self.port = sock.getsockname()[1]
        asyncio.get_running_loop().add_reader(sock.fileno(), self._accept)

    async def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock.fileno())
            sock.close()
        for reading in list(self._reading.values()):
            self._drop(reading)
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
                connection, peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of file descriptors, say: the queued connections wait for the next turn.
                log.warning("functions listener could not accept: %s", exc)
                return
            address = str(peer[0]) if isinstance(peer, tuple) else ""
            if self.pending >= self.max_pending or (
                self.pending >= self.max_pending - self.reserved
                and self._slow_from[address] >= self.reserved
            ):
                # Slow clients (a slowloris) holding every descriptor would starve the API of
                # its own, and the listener's other clients: past the limits a new connection
                # is closed unread, until heads come in or time out
                # (VORTEX_FUNCTIONS_HEADER_TIMEOUT_MS).
                connection.close()
                self.shed += 1
                if self.shed == 1 or self.shed % 1000 == 0:
                    log.warning(
                        "functions listener: %d connections being read already "
                        "(%d from %s); %d shed",
                        self.pending,
                        self._slow_from[address],
                        address,
                        self.shed,
                    )
                continue
            connection.setblocking(False)
            self._read(_Reading(connection, address))

    def _readable(self, reading: _Reading) -> None:
        self._read(reading)

    def _read(self, reading: _Reading) -> None:
        """Take what the connection has; the head complete, send it on its way."""
        connection = reading.connection
        try:
            chunk = connection.recv(MAX_HEAD_BYTES)
        except (BlockingIOError, InterruptedError):
            self._watch(reading)
            return
        except OSError:
            self._drop(reading, CLIENT_CLOSED)
            return
        if not chunk:
            self._drop(reading, CLIENT_CLOSED)
            return
        reading.received += chunk
        head = reading.head
        try:
            reading.parser.feed_data(chunk)
        except httptools.HttpParserUpgrade:
            head.complete = True
        except httptools.HttpParserError:
            self._refuse(reading, Refusal(400, "bad_request", "The request is not valid HTTP/1.1"))
            return
        if not head.complete:
            if len(reading.received) > MAX_HEAD_BYTES:
                self._refuse(
                    reading, Refusal(431, "headers_too_large", "The request head is over 64 KiB")
                )
            else:
                self._watch(reading)
            return
        self._unwatch(reading)
        authority = authority_of(head.target)
        named = head.host if authority is None else authority
        http11 = reading.parser.get_http_version() == "1.1"
        problem = host_problem(named, head.host_lines, http11)
        if problem is not None:
            self._spawn(self._answer_and_close(reading, Refusal(400, "bad_request", problem)))
            return
        hostname = hostname_of(named)
        data = bytes(reading.received)
        host = self._pick_host_now(hostname)
        if host is None:
            self._spawn(self._pick_and_hand_off(reading, data, hostname))
            return
        self._hand_off(reading, host, data)

    def _watch(self, reading: _Reading) -> None:
        if reading.watched:
            return
        reading.watched = True
        fd = reading.connection.fileno()
        self._reading[fd] = reading
        self._slow_from[reading.address] += 1
        loop = asyncio.get_running_loop()
        loop.add_reader(fd, self._readable, reading)
        reading.timer = loop.call_later(self._head_timeout, self._drop, reading, HEADER_TIMEOUT)

    def _unwatch(self, reading: _Reading) -> None:
        if not reading.watched:
            return
        reading.watched = False
        fd = reading.connection.fileno()
        del self._reading[fd]
        self._slow_from[reading.address] -= 1
        if self._slow_from[reading.address] <= 0:
            del self._slow_from[reading.address]
        asyncio.get_running_loop().remove_reader(fd)
        if reading.timer is not None:
            reading.timer.cancel()
            reading.timer = None

    def _drop(self, reading: _Reading, status: int = 0) -> None:
        """A connection closed (``status`` 499), its head timed out (408), or the listener is
        closing (0). A connection that sent nothing was no request: no access record."""
        self._unwatch(reading)
        reading.connection.close()
        if status and reading.received:
            self._on_access(_record(reading, status))

    def _refuse(self, reading: _Reading, refusal: Refusal) -> None:
        self._unwatch(reading)
        self._spawn(self._answer_and_close(reading, refusal))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pick_and_hand_off(self, reading: _Reading, data: bytes, hostname: str) -> None:
        connection = reading.connection
        try:
            host = await self._pick_host(hostname)
        except Refusal as refusal:
            await self._answer_and_close(reading, refusal)
            return
        except (TimeoutError, ConnectionError, OSError):
            connection.close()  # no host to be had: the client sees the connection closed
            self._on_access(_record(reading, 503, NO_HOST))
            return
        self._hand_off(reading, host, data)

    def _hand_off(self, reading: _Reading, host: HostProcess, data: bytes) -> None:
        try:
            host.hand_off(reading.connection, data)  # the connection is the host's from here on
        except ConnectionError:  # the host went meanwhile
            reading.connection.close()
            self._on_access(_record(reading, 503, NO_HOST))

    async def _answer_and_close(self, reading: _Reading, refusal: Refusal) -> None:
        # Made now, not once the client has read the answer or the linger is over: the line's
        # milliseconds are those of the server, as the hosts' are.
        record = _record(reading, refusal.status, refusal.code)
        try:
            await self._answer(reading.connection, refusal)
        finally:
            reading.connection.close()
            self._on_access(record)

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
