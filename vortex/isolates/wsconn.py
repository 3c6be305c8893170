"""WebSockets that functions accept on the listener: the handshake and the frames, by wsproto.

A request with ``Upgrade: websocket`` is checked as a handshake before its function runs
(``handshake``); a bad one is refused (400, or 426 for a version other than 13) and the function
never sees it. When the run answers ``101`` with a ``webSocket`` (``bridge.Host.ws_accept``), the
connection's transport passes from its ``HttpConnection`` to a ``WebSocketConnection``, which
writes the handshake's answer and from then on turns frames into the run's message and close
events (``SocketEvents``) and what the run sends into frames. Pings are answered here; the run
never sees them. See docs/http-functions.md (WebSockets) for the limits and lifetimes.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError

MAX_MESSAGE_BYTES = 1 << 20
"""A message from the client past this is refused with close 1009 (Workers' limit: 1 MiB)."""
SEND_BUFFER_LIMIT = 4 << 20
"""Bytes the run may have sent that the client has not read yet (beyond the kernel's buffers):
past this the client is taken for gone and its connection is cut, rather than buffered for."""
PENDING_MESSAGES = 16
"""Messages handed to the run and not yet dispatched, past which the client is no longer read:
a client that sends faster than its handlers run waits in its own TCP buffers, not the host's."""
CLOSE_TIMEOUT = 5.0
"""Seconds the other side has to answer a close frame before the connection is cut."""
MAX_LIFETIME = 3600.0
"""Seconds a WebSocket may stay open at most, by default; then it is closed with 1001
(``VORTEX_FUNCTIONS_WS_LIFETIME_MS``)."""

NORMAL = 1000
GOING_AWAY = 1001
NO_STATUS = 1005
ABNORMAL = 1006
INVALID_DATA = 1007
TOO_BIG = 1009
INTERNAL_ERROR = 1011
HANDSHAKE_REFUSED = "bad_websocket_handshake"
NOT_UTF8 = "A text message was not valid UTF-8"


class SocketEvents(Protocol):
    """What the run hears of its WebSocket (bridge.py)."""

    def reading(self) -> None:
        """The client's bytes are being read, in a turn of no run: its memory is the run's."""
        ...

    def message(self, data: bytes, text: bool) -> None:
        """A whole message; ``delivered`` is expected once the run has dispatched it."""
        ...

    def closing(self, code: int, reason: str) -> None:
        """The client began the closing handshake; the run answers with ``close``."""
        ...

    def closed(self, code: int, reason: str, clean: bool) -> None:
        """The WebSocket is over; nothing more comes."""
        ...


@dataclass(frozen=True, slots=True)
class Handshake:
    """A request's handshake, checked and not answered yet."""

    connection: WSConnection
    subprotocols: list[str]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request with ``Upgrade: websocket`` is not a handshake to answer."""

    status: int
    message: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def handshake(method: str, target: bytes, headers: list[tuple[str, str]]) -> Handshake | Refusal:
    """The server side of the handshake of a request, checked (RFC 6455 4.2.1), or a refusal."""
    if method != "GET":
        return Refusal(400, "A WebSocket handshake must be a GET request")
    connection = WSConnection(ConnectionType.SERVER)
    # Values were read as UTF-8 (httpserve.py): written back as they came.
    raw = [(name.encode("latin-1"), value.encode("utf-8", "replace")) for name, value in headers]
    try:
        connection.initiate_upgrade_connection(raw, target)
        request = next((e for e in connection.events() if isinstance(e, Request)), None)
    except RemoteProtocolError as exc:
        hint = exc.event_hint
        status = getattr(hint, "status_code", 400)
        extra = [
            (n.decode("latin-1"), v.decode("utf-8", "replace"))
            for n, v in getattr(hint, "headers", [])
        ]
        return Refusal(status, f"Bad WebSocket handshake: {exc}", extra)
    except Exception as exc:
        # h11, under wsproto, refuses some heads that httptools let through (a Host that is not
        # a valid IDNA name, a header value it finds malformed): its errors are not wsproto's.
        return Refusal(400, f"Bad WebSocket handshake: {exc}")
    if request is None:
        return Refusal(400, "Not a WebSocket handshake")
    return Handshake(connection, list(request.subprotocols))


def answer_headers(
    headers: list[list[str]], offered: list[str], skip: frozenset[str]
) -> tuple[str | None, list[tuple[bytes, bytes]]]:
    """The subprotocol and extra headers of a 101 from the function's ``headers``: the
    handshake's own are the host's to write (``Sec-WebSocket-Accept``; no extension is
    negotiated), and a subprotocol the client did not offer is left out (the client would fail
    the handshake)."""
    subprotocol = None
    extra = []
    for name, value in headers:
        lower = name.lower()
        if lower in skip or "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            continue
        if lower == "sec-websocket-protocol":
            if value.strip() in offered:
                subprotocol = value.strip()
        elif not lower.startswith("sec-websocket-"):
            extra.append((name.encode("latin-1", "replace"), value.encode("utf-8", "replace")))
    return subprotocol, extra


class ClientGone:
    """The WebSocket of a run whose client left before the run accepted it: closed at once."""

    def __init__(self, events: SocketEvents) -> None:
        asyncio.get_running_loop().call_soon(
            events.closed,
            ABNORMAL,
            "The client left before its WebSocket was accepted",
            False,
            context=contextvars.Context(),
        )

    def send(self, data: bytes | str) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        pass

    def delivered(self) -> None:
        pass

    def run_ended(self, failed: bool) -> None:
        pass


class WebSocketConnection(asyncio.Protocol):
    """One accepted WebSocket: its transport, taken over from the HTTP connection."""

    def __init__(
        self,
        connection: WSConnection,
        transport: asyncio.Transport,
        events: SocketEvents,
        idle_timeout: float,
        gone: Callable[[WebSocketConnection], None],
        max_lifetime: float = MAX_LIFETIME,
    ) -> None:
        self._ws = connection
        self._transport = transport
        self._events = events
        self._idle_timeout = idle_timeout
        self._gone = gone
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._heard = now
        """When the client last sent anything (a pong to our ping included)."""
        self._pinged = False
        self._max_lifetime = max_lifetime
        self._end_by = now + max_lifetime
        self._close_by = 0.0
        """While a close frame waits for its answer: when the connection is cut instead."""
        self._parts: list[bytes | bytearray | str] = []
        self._size = 0
        self._pending = 0
        self._paused = False
        self._outcome: tuple[int, str, bool] | None = None
        """The close to tell the run of (code, reason, clean), once the connection is lost."""
        self._told = False

    def start(
        self, subprotocol: str | None, headers: list[tuple[bytes, bytes]], early: bytes
    ) -> None:
        """Write the handshake's answer, then serve: ``early`` is what the client sent after
        its request head, already read."""
        self._write(self._ws.send(AcceptConnection(subprotocol=subprotocol, extra_headers=headers)))
        self._transport.set_protocol(self)
        if early:
            self.data_received(early)
        if not self._paused:
            self._transport.resume_reading()

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._ws.state is ConnectionState.CLOSED:
            return
        self._events.reading()
        self._heard = self._loop.time()
        self._pinged = False
        self._ws.receive_data(data)
        self._take_events()

    def _take_events(self) -> None:
        """Parse what the client sent while the run may take more messages; the rest waits in
        wsproto's buffer, parsed as the run takes them (``delivered``). One read holds up to
        256 KiB: ~37,000 one-byte messages, whose parsing and dispatch in one turn took more
        than a run's CPU limit, on the run's account (the supervisor killed the host)."""
        if self._ws.state is ConnectionState.CLOSED:
            return
        for event in self._ws.events():
            if isinstance(event, TextMessage | BytesMessage):
                self._part(event)
                if self._paused:
                    return
            elif isinstance(event, Ping):
                self._write(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self._close_received(event)
                return

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone(self)
        code, reason, clean = self._outcome or (ABNORMAL, "", False)
        self._tell_closed(code, reason, clean)

    def pause_writing(self) -> None:
        """The transport's buffer passed its high-water mark: the run's sends still go to it
        (``send`` is synchronous in Workers), up to ``SEND_BUFFER_LIMIT``."""

    def resume_writing(self) -> None:
        pass

    # -- from the run -------------------------------------------------------------------------
    def send(self, data: bytes | str) -> None:
        if self._ws.state is not ConnectionState.OPEN:
            return
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self._write(self._ws.send(event))
        if self._transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
            self._cut(ABNORMAL, "The client did not read what was sent to it")

    def close(self, code: int, reason: str) -> None:
        """The run's close: starts the closing handshake, or answers the client's."""
        state = self._ws.state
        if state is ConnectionState.REMOTE_CLOSING:
            self._write(self._ws.send(CloseConnection(code=code or NO_STATUS, reason=reason)))
            self._transport.close()
        elif state is ConnectionState.OPEN:
            self._begin_close(code or NO_STATUS, reason, tell=None)

    def delivered(self) -> None:
        """The run has dispatched one message: what the client sent meanwhile may be taken."""
        self._pending -= 1
        if self._paused and self._pending < PENDING_MESSAGES and not self._transport.is_closing():
            self._paused = False
            self._take_events()  # parsed already, waiting: before anything new is read
            if not self._paused and not self._transport.is_closing():
                self._transport.resume_reading()

    def run_ended(self, failed: bool) -> None:
        """The run is over with its socket open (a limit stopped it, say): close it at once."""
        self._told = True
        if self._ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            code = INTERNAL_ERROR if failed else NORMAL
            self._write(self._ws.send(CloseConnection(code=code)))
        self._transport.close()

    def shut(self, reason: str) -> None:
        """The host is being retired: 1001, as a server going down says."""
        if self._ws.state is ConnectionState.OPEN:
            self._begin_close(GOING_AWAY, reason, tell=(GOING_AWAY, reason))

    # -- deadlines, checked by the listener's sweep (httpserve.FunctionServer) -----------------
    def check_deadline(self, now: float) -> None:
        if self._close_by:
            if now > self._close_by:
                self._close_by = 0.0
                if self._ws.state is ConnectionState.REMOTE_CLOSING:
                    # The run did not answer the client's close in time: the host does.
                    self.close(NORMAL, "")
                else:
                    self._transport.abort()
            return
        if self._paused:
            self._heard = now  # not read meanwhile, by the host's choice: not the client's silence
        if now > self._end_by:
            self.shut(f"The WebSocket was open for its maximum of {self._max_lifetime:g} s")
        elif now > self._heard + self._idle_timeout:
            self.shut(f"The client answered nothing for {self._idle_timeout:g} s")
        elif not self._pinged and now > self._heard + self._idle_timeout / 2:
            # Browsers answer pings but send none: a quiet client that still answers stays open.
            self._pinged = True
            self._write(self._ws.send(Ping(payload=b"vortex")))

    # -- internals ----------------------------------------------------------------------------
    def _part(self, event: TextMessage | BytesMessage) -> None:
        if self._ws.state is not ConnectionState.OPEN:
            return  # closing: what still comes is dropped
        self._parts.append(event.data)
        self._size += len(event.data)
        if self._size > MAX_MESSAGE_BYTES:
            self._parts, self._size = [], 0
            reason = f"A message may be at most {MAX_MESSAGE_BYTES} bytes (1 MiB)"
            self._begin_close(TOO_BIG, reason, tell=(TOO_BIG, reason))
            return
        if not event.message_finished:
            return
        parts, self._parts, self._size = self._parts, [], 0
        if isinstance(event, TextMessage):
            data = "".join(part for part in parts if isinstance(part, str)).encode()
        else:
            data = b"".join(part for part in parts if not isinstance(part, str))
        self._pending += 1
        if self._pending >= PENDING_MESSAGES and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        self._events.message(data, isinstance(event, TextMessage))

    def _close_received(self, event: CloseConnection) -> None:
        state = self._ws.state
        if state is ConnectionState.CLOSED:
            # The answer to our close: the handshake is over, and the server closes TCP first.
            if self._outcome is None:
                self._outcome = (event.code, event.reason or "", True)
            else:
                self._outcome = (self._outcome[0], self._outcome[1], True)
            self._transport.close()
        elif state is ConnectionState.REMOTE_CLOSING:
            self._close_by = self._loop.time() + CLOSE_TIMEOUT
            self._outcome = (event.code, event.reason or "", True)
            self._events.closing(event.code, event.reason or "")
        else:
            # Not a close frame: wsproto's word for frames it could not parse (1002, 1007).
            reason = event.reason or ""
            if event.code == INVALID_DATA:
                # wsproto's reason is then Python's codec error ("'utf-8' codec can't decode
                # byte 0xff in position 0..."), which the client and the run would read.
                reason = NOT_UTF8
            self._write(self._ws.send(CloseConnection(code=event.code, reason=reason)))
            self._outcome = (event.code, reason, False)
            self._transport.close()

    def _begin_close(self, code: int, reason: str, tell: tuple[int, str] | None) -> None:
        """Send a close frame and wait for its answer; ``tell``: the code and reason the run
        hears (a close of the host's own), else those of the client's answer."""
        self._write(self._ws.send(CloseConnection(code=code, reason=reason)))
        self._close_by = self._loop.time() + CLOSE_TIMEOUT
        if tell is not None:
            self._outcome = (tell[0], tell[1], False)  # clean once the client answers

    def _cut(self, code: int, reason: str) -> None:
        self._outcome = (code, reason, False)
        self._transport.abort()

    def _tell_closed(self, code: int, reason: str, clean: bool) -> None:
        if not self._told:
            self._told = True
            self._events.closed(code, reason, clean)

    def _write(self, data: bytes) -> None:
        if data and not self._transport.is_closing():
            # Outside the run's context: a write the kernel cannot take at once registers a
            # callback, and one made in a run's turn would die with the run (bridge.outside_runs).
            contextvars.Context().run(self._transport.write, data)
