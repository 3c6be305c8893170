"""HTTP/1.1 served by a host itself: one asyncio Protocol per connection, over httptools.

The supervisor accepts a connection on the functions listener, reads its first request head to
learn the hostname, and hands the socket (with the bytes it read) to a host (listener.py). From
then on the connection is the host's: requests are parsed here, each becomes a run of the
hostname's function (``bridge.Host.start_local_run``), and its response is written here, with
no other process on the path. One request is served at a time per connection (HTTP/1.1 answers
in order); reading pauses while one is in flight, so a client that pipelines cannot queue more.

Each request gets an access record when its answer ended (``access.py``), sent with the runs'
records: its answer's status, the host's own refusals included, 408 for a head that timed out
and 499 for a client that left before its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import os
import resource
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import httptools
import orjson

from vortex.assets.respond import Answer
from vortex.errors import size_phrase
from vortex.isolates.access import CLIENT_CLOSED, HEADER_TIMEOUT, hostname_of, logged_path
from vortex.isolates.bodyencoding import BodyEncoder, encoder_for
from vortex.isolates.bridge import Host
from vortex.isolates.clientip import CLIENT_IP_HEADERS, forwarded_ip, ip_headers, peer_ip
from vortex.isolates.hostassets import AssetFetcher, HostAssets, plan
from vortex.isolates.hostheader import NO_HOST, TWO_HOSTS, authority_of, host_problem
from vortex.isolates.hostroutes import RouteError, RouteTable
from vortex.isolates.outcome import (
    FUNCTION_ERROR,
    HOST_CRASHED,
    HOST_RESTARTED,
    INVALID_RESPONSE,
    WALL_TIME_EXCEEDED,
)
from vortex.isolates.protocol import AccessRecord, Listen
from vortex.isolates.requesttarget import target_refusal
from vortex.isolates.route import Route
from vortex.isolates.runsocket import LocalSocket
from vortex.isolates.subrequests import LOOP_DETECTED, LOOP_HEADER, MAX_HOPS, hops_of
from vortex.isolates.wsconn import (
    HANDSHAKE_REFUSED,
    MAX_LIFETIME,
    ClientGone,
    Handshake,
    Refusal,
    SocketEvents,
    WebSocketConnection,
    answer_headers,
    handshake,
)

ERROR_STATUS = {
    INVALID_RESPONSE: 502,
    HOST_RESTARTED: 503,
    HOST_CRASHED: 503,
    WALL_TIME_EXCEEDED: 504,
}
"""HTTP status of a failed run; every other run error is the function's fault: 500."""
THROWN_HIDDEN = (
    "The function threw an error. What it says is kept from visitors on this server: its "
    "operator reads it in the run's history and live tail, by this run_id"
)
"""A thrown error's message may hold anything the code had (a token, a query, a path): off
loopback, the answer says only that something was thrown (``ListenerConfig.error_details``)."""
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
"""Framing belongs to the connection between Vortex and its client, not to the function."""
NO_BODY_STATUS = frozenset({204, 304})
BODY_BROKEN = "body_broken"
"""The access record's error of a streamed body broken off (the stream's error, or its run
ended without an error before the body did)."""
SWEEP_EVERY = 0.1
"""Seconds between two checks of the connections' header and idle deadlines."""
MAX_HEAD_BYTES = 64 << 10
LINGER = 2.0
"""Seconds a refused connection still reads (and drops) the client's bytes before it closes."""
DRAIN_IDLE_GRACE = 1.0
"""Seconds an idle keep-alive connection of a retired host waits for one more request, which
is answered with ``Connection: close``. Closing it at once races a request the client is
already sending: wrk counted ~16 read errors per host recycle, and a proxy does not resend a
POST lost that way."""


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """Sent by the supervisor once (the ``Listen`` frame)."""

    max_body_bytes: int = 2 << 20
    header_timeout: float = 10.0
    """Seconds a client has to send a request's head once it began it."""
    idle_timeout: float = 30.0
    """Seconds a kept-alive connection may wait for its next request."""
    trust_proxy: bool = False
    """Behind a proxy: take the scheme of ``request.url`` from ``X-Forwarded-Proto`` and the
    client's address from ``X-Forwarded-For`` (``clientip.py``)."""
    debug_host_header: bool = False
    """Answer with ``x-vortex-host``, this host's pid (tests of dedicated hosts)."""
    error_details: bool = True
    """A thrown error's name and message in a failed run's answer (``function_error``)."""
    ws_lifetime: float = MAX_LIFETIME
    """Seconds a WebSocket stays open at most; its idle limit is ``idle_timeout``."""

    @classmethod
    def from_frame(cls, frame: Listen) -> ListenerConfig:
        return cls(
            max_body_bytes=frame.max_body_bytes,
            header_timeout=frame.header_timeout,
            idle_timeout=frame.idle_timeout,
            trust_proxy=frame.trust_proxy,
            debug_host_header=frame.debug_host_header,
            error_details=frame.error_details,
            ws_lifetime=frame.ws_lifetime,
        )


_date_cache: tuple[int, bytes] = (0, b"")


def _date_header() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]


RFC_9110_REASONS = {
    413: "Payload Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    418: "I'm a teapot",
}
"""Where Python's table keeps the names RFC 9110 replaced (or RFC 2324's spelling): workerd
sends these, and a client that shows the reason phrase should read the same from both."""

CLASS_REASONS = {2: "Successful", 3: "Redirection", 4: "Client Error", 5: "Server Error"}
"""A status no RFC names (520, 299) is given its class's name, as workerd gives it, rather
than an empty reason phrase."""


def _default_reason(status: int) -> str:
    named = RFC_9110_REASONS.get(status)
    if named is not None:
        return named
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return CLASS_REASONS.get(status // 100, "")


_DEFAULT_REASONS = {status: _default_reason(status) for status in range(100, 600)}


def _reason(status: int, given: str) -> str:
    return given or _DEFAULT_REASONS.get(status, "")


def _clean(text: str) -> bool:
    return "\r" not in text and "\n" not in text


@dataclass(slots=True)
class _Request:
    method: str = ""
    target: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    hostname: str = ""
    """The host it names, as routes are kept (empty: ``host_error`` says why it names none)."""
    host_header: str = ""
    host_lines: int = 0
    host_error: str = ""
    forwarded_proto: str = ""
    forwarded_for: str = ""
    run_id: str = ""
    hops: int = 0
    """Its ``x-vortex-loop`` hop count: how many runs of functions fetched their way to it."""
    body: list[bytes] = field(default_factory=list)
    body_size: int = 0
    framed: bool = False
    """The head says a body follows (Content-Length, even 0, or Transfer-Encoding): the
    function's ``request.body`` is then a stream, empty or not, as in workerd; else null."""
    keep_alive: bool = True
    http11: bool = True
    http_version: str = "1.1"
    debug_host: bool = False
    started: float = 0.0
    """``time.perf_counter()`` at its first byte."""
    status: int = 0
    """The status of its answer, once its head is written."""
    error: str | None = None
    """The error code of its answer, if any."""
    function_id: str | None = None
    ran: bool = False
    """Whether a run of the function began (``run_id`` is then the run's)."""
    logged: bool = False
    """Whether its access record is made: one per request, however its answer ended."""
    upgrade: str = ""
    """Its ``Upgrade`` header: a WebSocket handshake is checked before its run (``_run``)."""
    handshake: Handshake | None = None


def connection_limit(reserve: int = 128) -> int:
    """The connections a host serves at once: its open files, less a few for its pipes."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 65536 if soft == resource.RLIM_INFINITY else max(16, soft - reserve)


class FunctionServer:
    """What the connections of one host share: the bridge, the routes and the settings."""

    def __init__(self, host: Host, routes: RouteTable, assets: AssetFetcher | None = None) -> None:
        self.host = host
        self.routes = routes
        self.assets = assets or AssetFetcher(host.send)
        self.config = ListenerConfig()
        self.connections: set[HttpConnection] = set()
        self.sockets: set[WebSocketConnection] = set()
        """Connections upgraded to WebSockets (wsconn.py); still counted in ``held``."""
        self.max_connections = connection_limit()
        """Past this, a handed-over connection is closed at once (host.py)."""
        self.reserved = self.max_connections // 4
        """The last quarter of ``max_connections`` is kept for addresses holding less than a
        quarter of it (``admit``): one client address cannot take a host from the others."""
        self.held = 0
        """Connections admitted and not closed yet."""
        self._from: Counter[str] = Counter()
        """Of those, per client address."""
        self.draining = False
        """The host is being retired: connections close after their current request."""
        # Run ids unique across hosts and nodes, cheaper than a uuid4 per request: a counter
        # from a random start, then a random uuid4 tail per host, in a UUID's shape. The
        # counter leads because tools show the first 8 characters of a run id (`vortex logs
        # -f`, the dashboard): with a fixed lead every run of a host looked the same there.
        self._run_tail = str(uuid.uuid4())[8:]
        self._run_numbers = itertools.count(int.from_bytes(os.urandom(4)))
        self._sweeper: asyncio.TimerHandle | None = None

    def new_run_id(self) -> str:
        return f"{next(self._run_numbers) & 0xFFFFFFFF:08x}{self._run_tail}"

    def admit(self, address: str) -> bool:
        """Whether a new connection from ``address`` may be served (it is then counted until
        ``release``): none past ``max_connections``, and past three quarters of it none from an
        address that holds a quarter already. Counted as they are taken, not once their
        transports are made: a burst handed over at once would pass every check."""
        if self.held >= self.max_connections or (
            self.held >= self.max_connections - self.reserved
            and self._from[address] >= self.reserved
        ):
            return False
        self.held += 1
        self._from[address] += 1
        return True

    def release(self, address: str) -> None:
        self.held -= 1
        self._from[address] -= 1
        if self._from[address] <= 0:
            del self._from[address]

    def held_by(self, address: str) -> int:
        return self._from[address]

    def watch(self, connection: HttpConnection) -> None:
        """Connections' timeouts are deadlines checked by one sweep (not a timer per request:
        two timers per request were a measurable share of a hello-world request)."""
        self.connections.add(connection)
        if self._sweeper is None:
            self._sweep()

    def forget(self, connection: HttpConnection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            self.release(connection.address)

    def upgraded(self, connection: HttpConnection, socket: WebSocketConnection) -> None:
        """``connection`` is ``socket`` from now on: the same admitted connection."""
        self.connections.discard(connection)
        self.sockets.add(socket)
        if self.draining:
            socket.shut("The host is shutting down")

    def socket_gone(self, socket: WebSocketConnection, address: str) -> None:
        if socket in self.sockets:
            self.sockets.discard(socket)
            self.release(address)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for connection in list(self.connections):
            connection.check_deadline(now)
        for socket in list(self.sockets):
            socket.check_deadline(now)
        self._sweeper = (
            loop.call_later(SWEEP_EVERY, self._sweep, context=contextvars.Context())
            if self.connections or self.sockets
            else None
        )

    def drain(self) -> None:
        """Every connection closes after its current request, or once idle for a grace."""
        if self.draining:
            return
        self.draining = True
        for connection in list(self.connections):
            connection.close_when_idle_for(DRAIN_IDLE_GRACE)
        for socket in list(self.sockets):
            socket.shut("The host is shutting down")

    async def finish(self, within: float) -> None:
        """Before the host exits: let its listener runs end and their answers leave."""
        self.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        # Polled: runs and connections end in many places, and this runs once per host's life.
        while (self.host.local or self.connections or self.sockets) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


class HttpConnection(asyncio.Protocol):
    def __init__(self, server: FunctionServer, initial: bytes, address: str) -> None:
        """``address``: the client's address, as the connection was admitted under
        (``FunctionServer.admit``); released when the connection is lost."""
        self._server = server
        self._initial = initial
        self.address = address
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._request = _Request()
        self._head_bytes = 0
        self._queue: list[_Request] = []
        self._busy = False
        self._closing = False
        self._deadline = 0.0
        """When the connection is closed unless a request is in flight; 0.0: no deadline."""
        self._refused = False
        self.backed_up = False
        self._drain_callbacks: list[Callable[[], None]] = []
        self._lingering = False
        """Refused and half-closed: reading only to drop what the client still sends."""
        self._in_message = False
        """A request is being read (its first byte came, not its last)."""
        self._serving: _Request | None = None
        """The request whose answer is being made."""
        self._ip_headers = ip_headers(peer_ip(address))
        """``CF-Connecting-IP`` and ``X-Real-IP`` of every request of the connection."""
        self._early: bytes | None = None
        """After an upgrade request's head: what the client sent after it (not HTTP), kept for
        the WebSocket if its run accepts one."""

    # -- asyncio.Protocol -------------------------------------------------------------------
    @property
    def config(self) -> ListenerConfig:
        return self._server.config

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._arm(self._server.config.header_timeout)
        self._server.watch(self)
        if self._initial:
            initial, self._initial = self._initial, b""
            self.data_received(initial)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._serving is not None:
            self.logged(self._serving, CLIENT_CLOSED)  # unless its answer was all written
        elif self._in_message:
            self.logged(self._request, CLIENT_CLOSED)
        self._closing = True
        self._disarm()
        self._server.forget(self)
        self.backed_up = False
        self._drained()  # the client is gone: what the run still writes is dropped

    # Backpressure: the transport says when its buffer passes its high-water mark (64 KiB) and
    # when it is back under the low one; a run streaming a body waits in between.
    def pause_writing(self) -> None:
        self.backed_up = True

    def resume_writing(self) -> None:
        self.backed_up = False
        self._drained()

    def when_drained(self, callback: Callable[[], None]) -> None:
        if self.backed_up and not self._closing:
            self._drain_callbacks.append(callback)
        else:
            callback()

    def _drained(self) -> None:
        callbacks, self._drain_callbacks = self._drain_callbacks, []
        for callback in callbacks:
            callback()

    def close_when_idle_for(self, seconds: float) -> None:
        """Closed by the sweep unless a request comes first (draining answers it, then closes)."""
        if self._busy or self._closing:
            return
        deadline = asyncio.get_running_loop().time() + seconds
        if not self._deadline or deadline < self._deadline:
            self._deadline = deadline

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._early is not None:
            self._early += data
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            # What follows the head is not HTTP: kept for a WebSocket its run may accept
            # (``upgrade``); otherwise the request is answered, then the connection closed.
            self._early = data[exc.args[0] :]
            if self._transport is not None:
                self._transport.pause_reading()
        except httptools.HttpParserError:
            self._refuse(400, "bad_request", "The request is not valid HTTP/1.1")

    # -- httptools callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._request = _Request(started=time.perf_counter())
        self._in_message = True
        self._head_bytes = 0
        self._arm(self._server.config.header_timeout)

    def on_url(self, url: bytes) -> None:
        self._request.target += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        key = name.decode("latin-1")
        # Values are read as UTF-8, as workerd reads them (a byte that is no UTF-8 is U+FFFD):
        # a client's "José" reaches the code as it was typed, and goes back out as it came.
        text = value.decode("utf-8", "replace")
        request = self._request
        lower = key.lower()
        if lower == "host":
            request.host_header = text
            request.host_lines += 1
        elif lower == "x-forwarded-proto":
            request.forwarded_proto = text
        elif lower == "x-vortex-run-id":
            request.run_id = text[:64]
        elif lower == LOOP_HEADER:
            request.hops = max(request.hops, hops_of(text))
        elif lower in CLIENT_IP_HEADERS:
            return  # the listener's to set (_run): a client must not choose its address
        elif lower == "x-forwarded-for":
            prior = request.forwarded_for
            request.forwarded_for = f"{prior}, {text}" if prior else text
        elif lower == "upgrade":
            request.upgrade = text
        elif lower == "transfer-encoding":
            request.framed = True
        request.headers.append((key, text))

    def on_headers_complete(self) -> None:
        self._disarm()
        parser = self._parser
        request = self._request
        request.method = parser.get_method().decode("ascii")
        request.keep_alive = parser.should_keep_alive()
        if request.upgrade and parser.should_upgrade():
            request.keep_alive = False  # what follows is not HTTP, unless a WebSocket's
        request.debug_host = self._server.config.debug_host_header
        request.http_version = parser.get_http_version()
        request.http11 = request.http_version == "1.1"
        self._name_host(request)
        config = self._server.config
        length = next((v for k, v in request.headers if k.lower() == "content-length"), None)
        request.framed = request.framed or length is not None
        if length is not None and length.isdigit() and int(length) > config.max_body_bytes:
            self._refuse_too_large()
            return
        expect = next((v for k, v in request.headers if k.lower() == "expect"), "")
        if expect.lower() == "100-continue" and self._transport is not None:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _name_host(self, request: _Request) -> None:
        """``request.hostname`` from its one Host header, or from its target's authority
        (hostheader.py), which the function then sees as its Host too."""
        authority = authority_of(request.target)
        named = request.host_header if authority is None else authority
        problem = host_problem(named, request.host_lines, request.http11)
        if problem is not None:
            request.host_error = problem
            return
        if authority is not None and authority != request.host_header:
            request.host_header = authority
            request.headers = [(k, v) for k, v in request.headers if k.lower() != "host"]
            request.headers.append(("Host", authority))
        request.hostname = hostname_of(request.host_header)

    def on_body(self, body: bytes) -> None:
        request = self._request
        request.body_size += len(body)
        if request.body_size > self._server.config.max_body_bytes:
            self._refuse_too_large()
            return
        request.body.append(body)

    def on_message_complete(self) -> None:
        self._in_message = False
        if self._refused:
            return
        request = self._request
        if self._busy:
            self._queue.append(request)
            if self._transport is not None:
                self._transport.pause_reading()
        else:
            self._start(request)

    # -- serving ------------------------------------------------------------------------------
    def _start(self, request: _Request) -> None:
        self._busy = True
        self._serving = request
        if not request.hostname:
            self._refuse_host(request)
            return
        refusal = target_refusal(request.method, request.target, request.http_version)
        if refusal is not None:
            self._write_error(
                request, refusal.status, refusal.code, refusal.message, list(refusal.headers)
            )
            return
        route = self._server.routes.lookup(request.hostname, request.target)
        if route is not None:
            self._run(request, route)
            return
        future = self._server.routes.resolve(request.hostname, request.target)
        future.add_done_callback(lambda done: self._resolved(request, done))

    def _refuse_host(self, request: _Request) -> None:
        if request.host_error == TWO_HOSTS:
            # Another server in front may have read the other one: nothing more of this
            # connection can be trusted to mean what it says.
            request.keep_alive = False
        self._write_error(request, 400, "bad_request", request.host_error or NO_HOST)

    def _resolved(self, request: _Request, done: asyncio.Future[Route]) -> None:
        if self._closing:
            return
        error = done.exception()
        if isinstance(error, RouteError):
            self._write_error(request, error.status, error.code, error.message)
        elif error is not None:
            self._write_error(request, 500, "internal_error", "The function could not be found")
        else:
            self._run(request, done.result())

    def _run(self, request: _Request, route: Route) -> None:
        request.function_id = route.function_id
        if self._server.draining:
            request.keep_alive = False
        if request.hops >= MAX_HOPS:
            self._write_error(
                request,
                508,
                LOOP_DETECTED,
                f"The request went through {request.hops} runs of functions that fetched it "
                f"on (its {LOOP_HEADER} header): a loop, refused at {MAX_HOPS}",
            )
            return
        if route.elsewhere:
            request.keep_alive = False
            self._write_error(
                request,
                421,
                "misdirected_request",
                "This connection is served by another namespace's host: open a new connection",
            )
            return
        if route.assets is not None and self._from_assets(request, route.assets, route.function_id):
            return
        scheme = "http"
        if self._server.config.trust_proxy and request.forwarded_proto:
            scheme = request.forwarded_proto.split(",", 1)[0].strip().lower()
        target = request.target.decode("latin-1")
        url = target if "://" in target[:8] else f"{scheme}://{request.host_header}{target}"
        client = self._ip_headers
        if self._server.config.trust_proxy and request.forwarded_for:
            forwarded = forwarded_ip(request.forwarded_for)
            if forwarded is not None:
                client = ip_headers(forwarded)
        if client is not None:
            request.headers.extend(client)
        if request.upgrade and request.upgrade.strip().lower() == "websocket":
            shake = handshake(request.method, request.target, request.headers)
            if isinstance(shake, Refusal):
                self._write_error(
                    request, shake.status, HANDSHAKE_REFUSED, shake.message, shake.headers
                )
                return
            request.handshake = shake
        meta = orjson.dumps(
            {
                "method": request.method,
                "url": url,
                "headers": request.headers,
                "protocol": "HTTP/1.1" if request.http11 else "HTTP/1.0",
            }
        )
        body = b"".join(request.body) if request.body_size else (b"" if request.framed else None)
        if request.method in ("GET", "HEAD"):
            body = None
        run_id = request.run_id or self._server.new_run_id()
        request.run_id = run_id
        request.ran = True
        responder = _Responder(self, request)
        self._server.host.start_local_run(route, meta, body, responder, run_id, request.hops)

    def _from_assets(self, request: _Request, assets: HostAssets, function_id: str) -> bool:
        """Answers ``request`` with a static asset if it names one (True), without a run."""
        navigate = if_none_match = None
        for name, value in request.headers:
            lower = name.lower()
            if lower == "sec-fetch-mode":
                navigate = value
            elif lower == "if-none-match":
                if_none_match = value
        target = request.target.decode("latin-1")
        shaped = plan(assets, request.method, target, navigate == "navigate", if_none_match)
        if shaped is None:
            return False
        found = shaped.body_of
        if found is None:
            self._write_asset(request, shaped, b"")
            return True
        fetcher = self._server.assets
        body = fetcher.cached(function_id, found.digest)
        if body is not None:
            self._write_asset(request, shaped, body)
            return True
        future = fetcher.read(function_id, found.digest)
        future.add_done_callback(lambda done: self._asset_read(request, shaped, done))
        return True

    def _asset_read(self, request: _Request, shaped: Answer, done: asyncio.Future[bytes]) -> None:
        if self._closing:
            return
        error = done.exception()
        if error is not None:
            self._write_error(request, 503, "asset_unavailable", f"The asset: {error}")
            return
        self._write_asset(request, shaped, done.result())

    def _write_asset(self, request: _Request, shaped: Answer, body: bytes) -> None:
        length = len(body) if shaped.body_of is not None else shaped.length
        self.write(_head(request, shaped.status, "", shaped.headers, length) + body)
        self.response_done(request)

    def response_done(self, request: _Request) -> None:
        """The response to ``request`` is written whole: on to the next one, if any."""
        self.logged(request)
        self._busy = False
        self._serving = None
        if self._closing or self._transport is None:
            return
        if not request.keep_alive:
            self._close()
            return
        if self._queue:
            self._start(self._queue.pop(0))
            if not self._queue and self._early is None:  # an upgrade's frames wait unread
                self._transport.resume_reading()
            return
        if not self._in_message:  # the next request's head, begun, keeps its own deadline
            self._arm(self._server.config.idle_timeout)

    def upgrade(
        self, request: _Request, headers: list[list[str]], events: SocketEvents
    ) -> WebSocketConnection | ClientGone | None:
        """The run of ``request`` answered 101 with a WebSocket: the connection becomes it,
        unless ``request`` was no handshake (None: the run's response is invalid)."""
        shake = request.handshake
        transport = self._transport
        if shake is None:
            return None
        if transport is None or self._closing:
            return ClientGone(events)
        subprotocol, extra = answer_headers(headers, shake.subprotocols, HOP_BY_HOP)
        # Dated as every other answer of the listener is (``_head``): the function's own wins.
        if not any(name.lower() == b"date" for name, _ in extra):
            extra.insert(0, (b"date", _date_header()))
        extra.append((b"x-vortex-run-id", request.run_id.encode("latin-1", "replace")))
        if request.debug_host:
            extra.append((b"x-vortex-host", b"%d" % os.getpid()))
        address = self.address
        server = self._server
        socket = WebSocketConnection(
            shake.connection,
            transport,
            events,
            server.config.idle_timeout,
            lambda gone: server.socket_gone(gone, address),
            server.config.ws_lifetime,
        )
        request.status = 101
        self.logged(request)
        self._closing = True
        self._disarm()
        self._serving = None
        early, self._early = self._early or b"", None
        server.upgraded(self, socket)
        socket.start(subprotocol, extra, early)
        return socket

    @property
    def dropping_writes(self) -> bool:
        """The client has gone, or the connection is being closed: ``write`` drops its bytes."""
        return self._transport is None or self._closing

    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._closing:
            self._transport.write(data)

    def cut(self) -> None:
        """End the connection without a proper end: a streamed body broke off."""
        self._closing = True
        if self._transport is not None:
            self._transport.abort()

    def logged(self, request: _Request, status: int = 0) -> None:
        """Make ``request``'s access record (once): its answer ended, or ``status`` says why
        there is none (408, 499)."""
        if request.logged:
            return
        request.logged = True
        host = self._server.host
        if not host.access_records:
            return
        if not request.method:  # refused before its head was whole: what of it was read
            with contextlib.suppress(httptools.HttpParserError):
                request.method = self._parser.get_method().decode("ascii", "replace")
        hostname = request.hostname or hostname_of(request.host_header)
        host.access(
            AccessRecord(
                request.method,
                logged_path(request.target),
                status or request.status,
                round((time.perf_counter() - request.started) * 1000, 3),
                hostname,
                request.function_id,
                request.run_id if request.ran else None,
                request.error,
            )
        )

    def _write_error(
        self,
        request: _Request,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        request.error = code
        body = orjson.dumps({"error": {"code": code, "message": message}})
        head = [("content-type", "application/json"), *(headers or ())]
        self.write(_head(request, status, "", head, len(body)))
        if request.method != "HEAD":
            self.write(body)
        self.response_done(request)

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._refused = True
        request = self._request
        request.keep_alive = False
        if self._busy:
            # An answer is still being written for an earlier request: just end after it.
            request.error = code
            self.logged(request, status)
            self._close()
            return
        self._busy = True
        self._write_error(request, status, code, message)

    def _refuse_too_large(self) -> None:
        """A body over the limit: refused before it is read, but a request that names no
        function is told that first (400 without a Host, 404 for an unknown hostname), as
        the hostname is what a client most needs to hear is wrong."""
        request = self._request
        if not request.hostname:
            self._refuse(400, "bad_request", request.host_error or NO_HOST)
            return
        routes = self._server.routes
        if routes.lookup(request.hostname, request.target) is not None:
            self._refuse(413, "payload_too_large", self._too_large())
            return
        self._refused = True  # nothing more of this request is read meanwhile
        transport = self._transport
        if transport is not None:
            transport.pause_reading()
        future = routes.resolve(request.hostname, request.target)
        future.add_done_callback(self._refuse_once_resolved)

    def _refuse_once_resolved(self, done: asyncio.Future[Route]) -> None:
        if self._closing:
            return
        if self._transport is not None:
            self._transport.resume_reading()  # what comes is read and dropped while lingering
        error = None if done.cancelled() else done.exception()
        if isinstance(error, RouteError):
            self._refuse(error.status, error.code, error.message)
        else:
            self._refuse(413, "payload_too_large", self._too_large())

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES and not self._refused:
            self._refuse(431, "headers_too_large", "The request head is over 64 KiB")

    def _too_large(self) -> str:
        limit = self._server.config.max_body_bytes
        return (
            f"The request body is over the limit of {size_phrase(limit)}; the server's operator "
            "can raise it with VORTEX_MAX_BODY_BYTES"
        )

    def _close(self) -> None:
        self._closing = True
        self._disarm()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._refused and transport.can_write_eof():
            # The request's body may be still coming: closing now, with bytes unread, makes
            # the kernel reset the connection, and the client may lose the answer (a 413, a
            # 400) before reading it. Send EOF, drop what arrives, close when the client does
            # or after a grace.
            transport.write_eof()
            self._lingering = True
            self._deadline = asyncio.get_running_loop().time() + LINGER
            return
        transport.close()

    def eof_received(self) -> bool:
        return False  # half-closed by the client: the transport closes (after our writes)

    def _arm(self, seconds: float) -> None:
        self._deadline = asyncio.get_running_loop().time() + seconds

    def _disarm(self) -> None:
        self._deadline = 0.0

    def check_deadline(self, now: float) -> None:
        if not self._deadline or now <= self._deadline:
            return
        if self._lingering:
            if self._transport is not None:
                self._transport.close()
        elif not self._busy:
            if self._in_message:  # the deadline of a head begun, not of an idle connection
                self.logged(self._request, HEADER_TIMEOUT)
            self._close()


def _head(
    request: _Request,
    status: int,
    status_text: str,
    headers: list[tuple[str, str]] | list[list[str]],
    length: int | None,
) -> bytes:
    """The status line and headers; ``length`` None means a chunked (or close-delimited) body."""
    request.status = status
    lines = [
        f"HTTP/1.1 {status} {_reason(status, status_text)}\r\n".encode("latin-1", "replace"),
        b"",
    ]
    dated = False
    for name, value in headers:
        lowered = name.lower()
        if lowered in HOP_BY_HOP or not (_clean(name) and _clean(value)):
            continue
        # A proxied origin's Date stays the response's only one (RFC 9110 6.6.1), as on
        # Workers; two Date headers are a malformed response to caches and browsers.
        dated = dated or lowered == "date"
        lines.append(f"{name}: {value}\r\n".encode("utf-8", "replace"))
    if not dated:
        lines[1] = b"date: " + _date_header() + b"\r\n"
    if request.run_id:
        lines.append(f"x-vortex-run-id: {request.run_id}\r\n".encode("latin-1", "replace"))
    if request.debug_host:
        lines.append(b"x-vortex-host: %d\r\n" % os.getpid())
    if length is not None:
        if status not in NO_BODY_STATUS:
            lines.append(b"content-length: %d\r\n" % length)
    elif request.http11:
        lines.append(b"transfer-encoding: chunked\r\n")
    else:
        request.keep_alive = False
    if not request.keep_alive:
        lines.append(b"connection: close\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def _stated_length(headers: list[list[str]], default: int) -> int:
    for name, value in headers:
        if name.lower() == "content-length" and value.strip().isdigit():
            return int(value)
    return default


class _Responder:
    """Where one run's response goes (``bridge.LocalResponder``)."""

    __slots__ = (
        "_bodyless",
        "_chunked",
        "_connection",
        "_encoder",
        "_ended",
        "_request",
        "_sent",
        "_socket",
    )

    def __init__(self, connection: HttpConnection, request: _Request) -> None:
        self._connection = connection
        self._request = request
        self._socket: LocalSocket | None = None
        self._sent = False
        self._chunked = False
        self._ended = False
        self._bodyless = request.method == "HEAD"
        self._encoder: BodyEncoder | None = None

    def head(
        self,
        status: int,
        status_text: str,
        headers: list[list[str]],
        body: bytes | None,
        streaming: bool,
        length: int | None = None,
        manual: bool = False,
    ) -> None:
        self._sent = True
        self._bodyless = self._bodyless or status in NO_BODY_STATUS
        connection = self._connection
        encoder = None if manual or status in NO_BODY_STATUS else encoder_for(headers)
        if encoder is not None:
            # The encoded length is known only once encoded: a stream's stated one no longer
            # holds, and a HEAD states none.
            length = None
            if not self._bodyless:
                self._encoder = encoder
        if streaming or (encoder is not None and self._bodyless):
            data = _head(self._request, status, status_text, headers, length)
            self._chunked = length is None and self._request.http11
            connection.write(data)
            if not streaming:
                self._end()
            return
        payload = body or b""
        if self._encoder is not None:
            payload = self._encoder.end(payload)
        length = len(payload)
        if self._request.method == "HEAD" and not payload:
            # A HEAD handler answers with the GET's headers and no body (Hono does): the
            # length it states is the GET's, as HTTP wants, not the 0 bytes sent.
            length = _stated_length(headers, length)
        data = _head(self._request, status, status_text, headers, length)
        connection.write(data if self._bodyless else data + payload)
        self._end()

    def chunk(self, data: bytes) -> bool:
        if self._ended or self._bodyless or not data:
            return False
        if self._encoder is not None:
            data = self._encoder.encode(data)
            if not data:
                return self._connection.backed_up
        if self._chunked:
            self._connection.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self._connection.write(data)
        return self._connection.backed_up

    def when_drained(self, callback: Callable[[], None]) -> None:
        self._connection.when_drained(callback)

    def gone(self) -> bool:
        return self._connection.dropping_writes

    def body_end(self, error: str | None) -> None:
        if self._ended:
            return
        if error is not None:
            # The status line is gone already: cutting the connection is the only way to say so.
            self._ended = True
            self._request.error = BODY_BROKEN
            self._connection.logged(self._request)
            self._connection.cut()
            return
        if self._encoder is not None and not self._bodyless:
            tail = self._encoder.end()
            self._encoder = None
            if tail and self._chunked:
                self._connection.write(b"%x\r\n%s\r\n" % (len(tail), tail))
            elif tail:
                self._connection.write(tail)
        if self._chunked and not self._bodyless:
            self._connection.write(b"0\r\n\r\n")
        self._end()

    def upgrade(self, headers: list[list[str]], events: SocketEvents) -> LocalSocket | None:
        if self._sent:
            return None
        socket = self._connection.upgrade(self._request, headers, events)
        if socket is not None:
            self._sent = self._ended = True
            self._socket = socket
        return socket

    def finished(self, output_json: str | None, error: dict[str, Any] | None) -> None:
        if self._socket is not None:
            self._socket.run_ended(error is not None)
            return
        if self._sent:
            if not self._ended:
                # The run ended (a limit, say) while its body was still streaming.
                self._ended = True
                self._request.error = str(error.get("code")) if error else BODY_BROKEN
                self._connection.logged(self._request)
                self._connection.cut()
            return
        self._sent = True
        request = self._request
        if error is not None:
            code = str(error.get("code"))
            request.error = code
            name, message = error.get("name"), error.get("message")
            if code == FUNCTION_ERROR and not self._connection.config.error_details:
                name, message = "Error", THROWN_HIDDEN
            body = orjson.dumps(
                {
                    "error": {"code": code, "name": name, "message": message},
                    "run_id": request.run_id,
                }
            )
            headers = [("content-type", "application/json"), ("x-vortex-error", code)]
            status = ERROR_STATUS.get(code, 500)
        else:
            body = (output_json or "null").encode()
            headers = [("content-type", "application/json")]
            status = 200
        data = _head(request, status, "", headers, len(body))
        self._connection.write(data if self._bodyless else data + body)
        self._end()

    def _end(self) -> None:
        self._ended = True
        self._connection.response_done(self._request)
