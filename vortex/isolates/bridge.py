"""The host side of the bridge between JavaScript and the supervisor's frames.

The harness (``js/src/harness``) calls these methods (``host.emit``, ``host.respond``,
``host.fetch``...) with strings and numbers only, and they become frames to the supervisor
(protocol.py); frames from the supervisor become calls into the runtime, each scheduled in the
context of the run it belongs to so that the turn clock charges its CPU time to that run. Bytes
and JSON go to JavaScript as bytearrays (it copies them), come back as "binary strings" (one
character per byte), and cross the pipe as bytes.

Every invocation runs in its own ``contextvars.Context`` holding its id. asyncio copies the
current context into each callback it schedules, and pythonmonkey schedules timers and promise
jobs through asyncio, so every turn of JavaScript carries the id of the invocation it belongs to.
That is what lets the turn clock say who is running, and the shared web classes find "their" run.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import orjson

from vortex.isolates import runsocket, webcrypto
from vortex.isolates.codecs import Codecs
from vortex.isolates.digests import Digests
from vortex.isolates.exchange import BODY_WINDOW, HttpRequest
from vortex.isolates.idlegc import IdleCollector
from vortex.isolates.interrupt import HOST_MEMORY, MEMORY
from vortex.isolates.jobloop import MutedJobLoop
from vortex.isolates.limits import Limits
from vortex.isolates.outcome import (
    CPU_TIME_EXCEEDED,
    MEMORY_LIMIT_EXCEEDED,
    OUTPUT_TOO_LARGE,
    PAYLOAD_TOO_LARGE,
    WALL_TIME_EXCEEDED,
)
from vortex.isolates.pressure import host_memory_message
from vortex.isolates.protocol import (
    AccessRecord,
    Adopt,
    Answered,
    BodyCancel,
    BodyEnd,
    BodyPull,
    Call,
    Check,
    Checked,
    Chunk,
    Done,
    Ended,
    ErrorBody,
    Failed,
    Fetch,
    FetchAbort,
    FetchChunk,
    Fetched,
    FetchEnd,
    FetchPull,
    Frame,
    FrameTooLarge,
    Log,
    Response,
    Run,
    RunFrame,
    RunRecord,
    ToHost,
)
from vortex.isolates.route import Route, limits_json
from vortex.isolates.runsocket import LocalSocket, RunSocketEvents
from vortex.isolates.turnclock import NO_INVOCATION

CURRENT_INVOCATION: contextvars.ContextVar[int] = contextvars.ContextVar("vortex_invocation")
STRING_CACHE_ENTRIES = 1024
COLLECT_AFTER_STRINGS = 300
"""New Python strings handed to JavaScript between two collections the host asks for (see
``Host.finish``)."""


def iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def binary_to_bytes(binary: object) -> bytes | None:
    """The bytes of a "binary string" from JavaScript (one character per byte). JavaScript's
    null arrives as pythonmonkey.null, not None: anything but a string is "none"."""
    return binary.encode("latin-1") if isinstance(binary, str) else None


def for_javascript(data: bytes | None) -> bytearray | None:
    """Bytes for JavaScript: a bytearray, which it copies (never a new Python string, which
    pythonmonkey's GC would track; see js/src/util.js hostBytes)."""
    return None if data is None else bytearray(data)


def json_bytes(value: Any) -> bytearray:
    return bytearray(orjson.dumps(value))


def _request_meta(request: HttpRequest) -> dict[str, Any]:
    """What JavaScript makes a module's incoming ``Request`` of (exchange.js)."""
    meta: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "headers": request.headers,
    }
    if request.protocol is not None:
        meta["protocol"] = request.protocol
    return meta


CHUNK_SENT, CHUNK_FULL, CHUNK_GONE, CHUNK_UNREAD = 0, 1, 2, 3
"""What ``Host.chunk`` answers the harness (handlers.js knows them by number)."""
RECORDS_EVERY = 0.01
"""Seconds the record of a listener run may wait to leave with others (``Host._record``)."""
RECORDS_PER_BATCH = 256
ACCESS_BACKLOG = 1 << 20
"""Bytes waiting in the pipe to the supervisor past which access records are dropped (and
counted): a supervisor that cannot keep up must not make the host hold ever more of them."""
LOCAL_IDS_FROM = 1 << 40
"""Runs a host starts for its own listener are numbered from here: the supervisor numbers the
runs it sends from 1, and both kinds share the turn clock and the frames."""


class LocalResponder(Protocol):
    """Where a run started by this host's own listener sends its response (httpserve.py)."""

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
        """``length``: a streamed body's length, when it is known (a FixedLengthStream's);
        ``manual``: the body is in its Content-Encoding already (``encodeBody: "manual"``)."""
        ...

    def chunk(self, data: bytes) -> bool:
        """Whether the client's connection is full: the run then waits for ``when_drained``."""
        ...

    def gone(self) -> bool:
        """Whether the client has gone: nothing the run writes from now on reaches anyone."""
        ...

    def when_drained(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once, when the connection takes more again (or is gone)."""
        ...

    def body_end(self, error: str | None) -> None: ...

    def upgrade(self, headers: list[list[str]], events: RunSocketEvents) -> LocalSocket | None:
        """The run answered 101 with a WebSocket: its socket, or None if the request was no
        WebSocket handshake (runsocket.py)."""
        ...

    def finished(self, output_json: str | None, error: dict[str, Any] | None) -> None: ...


def outside_runs(call: Callable[..., Any], *args: Any) -> Any:
    """Call ``call`` in a context of no run. Writing to a connection may register a callback to
    finish the write later, and asyncio gives it the current context: made inside a run's turn,
    it would belong to that run, and the turn clock drops what belongs to an ended run."""
    return contextvars.Context().run(call, *args)


@dataclass(slots=True)
class LocalRun:
    responder: LocalResponder
    function_id: str
    run_id: str
    started: float = field(default_factory=time.perf_counter)
    announced: bool = False
    """Whether the supervisor was told of the run (``adopt``): only once it has to be, before
    the run's first log line, fetch or binding call; a run with none is told of once, ended."""
    silent: bool = False
    """A warm-up (``Host.warm``): nothing of it reaches the supervisor, no record either."""
    socket: LocalSocket | None = None
    """The WebSocket its response accepted, if any (runsocket.py)."""


class _NoAnswer:
    """The responder of a warm-up, which answers nobody."""

    def head(self, *_: Any) -> None:
        pass

    def chunk(self, data: bytes) -> bool:
        return False

    def gone(self) -> bool:
        return False

    def when_drained(self, callback: Callable[[], None]) -> None:
        callback()

    def body_end(self, error: str | None) -> None:
        pass

    def upgrade(self, headers: list[list[str]], events: RunSocketEvents) -> LocalSocket | None:
        return None

    def finished(self, output_json: str | None, error: dict[str, Any] | None) -> None:
        pass


@dataclass(slots=True)
class ActiveRun:
    cpu_limit_s: float
    memory_limit_bytes: int = 0
    context: contextvars.Context = field(default_factory=contextvars.Context)
    wall_timer: asyncio.TimerHandle | None = None
    """Armed after the run's first turn, if it is still running then (``turn_ended``)."""
    wall_ms: int = 0
    wall_deadline: float = 0.0
    """The loop's time at which the run is stopped with ``wall_time_exceeded``."""
    cpu_s: float = 0.0
    turns: int = 0
    """Callbacks of the loop run for the run so far (its promise jobs among them)."""
    cpu_before_s: float = 0.0
    """CPU time used before the budget in ``cpu_s`` began: each WebSocket message begins one."""
    socket_open: bool = False
    """Its WebSocket is open: no wall limit meanwhile (runsocket.py)."""
    hops: int = 0
    """The hop count of the request that started it (``subrequests.LOOP_HEADER``), 0 if none:
    its fetches carry one more."""
    body_ahead: int = 0
    """Bytes of its streamed body sent to the supervisor and not read yet (``BodyPull``)."""
    body_waiting: bool = False
    """Its body waits for its reader: ``body_ahead`` reached ``BODY_WINDOW``."""
    body_gone: bool = False
    """Nobody reads its streamed body through the supervisor any more (``BodyCancel``)."""


def _cpu_message(run: ActiveRun) -> str:
    return f"CPU time limit of {round(run.cpu_limit_s * 1000)} ms exceeded"


def well_formed(value: Any) -> Any:
    """``value`` with lone surrogates (legal in JavaScript strings, not in UTF-8) replaced."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {well_formed(key): well_formed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(well_formed(item) for item in value)
    if isinstance(value, msgspec.Struct):
        fields = {name: well_formed(getattr(value, name)) for name in value.__struct_fields__}
        return msgspec.structs.replace(value, **fields)
    return value


def parse_json_text(text: str) -> Any:
    """JSON text from JSON.stringify, which may escape lone surrogates that orjson refuses."""
    try:
        return orjson.loads(str(text))
    except orjson.JSONDecodeError:
        return well_formed(json.loads(str(text)))


class Host:
    def __init__(
        self,
        runtime: Any,
        send: Callable[[Frame], None],
        collect: Callable[[], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self._send = send
        self._collect = collect
        self._idle_collector = (
            None if collect is None else IdleCollector(collect, lambda: bool(self.active))
        )
        self._handed = 0
        """New Python strings handed to JavaScript since the last collection."""
        self.codecs = Codecs(lambda: CURRENT_INVOCATION.get(NO_INVOCATION))
        self.digests = Digests(lambda: CURRENT_INVOCATION.get(NO_INVOCATION))
        self.active: dict[int, ActiveRun] = {}
        self.turn_cpu_started = 0.0
        """CPU time of the host's thread when the current turn began."""
        self.measure_memory = False
        """Whether each turn's memory growth is measured: once a run has come with a memory
        limit, so that the growth of every turn since is known (growth.py)."""
        self.measure_again: Callable[[int], int | None] | None = None
        """Set by the turn clock (``GrowthWatch.measure_again``)."""
        self.on_behalf_of: Callable[[int], None] = lambda invocation: None
        """Set by the turn clock (``GrowthWatch.on_behalf_of``)."""
        self.expire_turn: Callable[[], None] | None = None
        """Set by the turn clock: ends the running turn at once (``Interrupter.expire``)."""
        self._strings: dict[str, str] = {}
        self.local: dict[int, LocalRun] = {}
        """Runs this host started for its own listener, by id."""
        self._records: list[RunRecord] = []
        self._access: list[AccessRecord] = []
        self._access_dropped = 0
        self.access_records = True
        """Whether requests of the listener get access records (``Listen.access_records``)."""
        self.backlog: Callable[[], int] = lambda: 0
        """Bytes written to the supervisor's pipe and not taken yet (set by host.py)."""
        self._records_timer: asyncio.TimerHandle | None = None
        self._local_ids = itertools.count(LOCAL_IDS_FROM)
        self._timers: dict[int, asyncio.Handle] = {}
        self._timer_ids = itertools.count(1)

    def send(self, message: Frame) -> None:
        if self.local and isinstance(message, RunFrame):
            local = self.local.get(message.id)
            if local is not None and local.silent:
                return  # a warm-up's top-level log line or fetch: dropped (docs/http-functions.md)
            if local is not None and not local.announced:
                local.announced = True
                self._send(Adopt(message.id, local.function_id, local.run_id))
        try:
            try:
                self._send(message)
            except UnicodeEncodeError:
                # Only a lone surrogate in a string from JavaScript makes a frame fail to
                # encode; repairing it only then keeps the common path free of a copy.
                self._send(well_formed(message))
        except FrameTooLarge as exc:
            self._refuse_frame(message, exc)

    def _refuse_frame(self, message: Frame, exc: FrameTooLarge) -> None:
        """What a run asked to send is over what the pipe carries (a fetch's body of 100 MiB):
        sent, the supervisor would take the host for broken and end it with every run on it.
        The run's request is refused instead, as the supervisor refuses one over its limits."""
        if isinstance(message, Fetch):
            self.deliver(
                Fetched(message.id, message.fid, error=f"fetch to {message.url}: its body is {exc}")
            )
        elif isinstance(message, Call):
            error = ErrorBody(PAYLOAD_TOO_LARGE, f"{message.binding} {message.op}: {exc}")
            self.answer(Answered(message.id, message.cid, error=error))
        elif isinstance(message, RunFrame):
            self.abort(message.id, OUTPUT_TOO_LARGE, f"The run sent {exc}")
        else:
            raise exc

    # -- called by the turn clock around every callback of the loop --------------------------
    def turn_ended(self, invocation: int, elapsed: float, grown: int | None = None) -> None:
        """``elapsed`` is the CPU time the turn used; ``grown``, when measured, the memory the
        run's turns have added to the host so far."""
        run = self.active.get(invocation)
        if run is None:
            return
        if run.wall_timer is None and not run.socket_open:
            # Most runs end in their first turn (a hello world's does): a timer made for each
            # run, then cancelled, was a twentieth of a host's Python per request.
            run.wall_timer = contextvars.Context().run(
                asyncio.get_running_loop().call_at,
                run.wall_deadline,
                self.abort,
                invocation,
                WALL_TIME_EXCEEDED,
                f"Wall time limit of {run.wall_ms} ms exceeded",
            )
        run.turns += 1
        run.cpu_s += elapsed
        if run.cpu_s > run.cpu_limit_s:
            self.abort(invocation, CPU_TIME_EXCEEDED, _cpu_message(run))
        elif grown is not None and 0 < run.memory_limit_bytes < grown:
            grown = self._after_collection(invocation, run, grown)
            if grown <= run.memory_limit_bytes:
                return
            self.abort(
                invocation,
                MEMORY_LIMIT_EXCEEDED,
                f"Memory limit of {run.memory_limit_bytes >> 20} MiB per run exceeded "
                f"(its turns added {grown >> 20} MiB to the host)",
            )

    def stopped(self, invocation: int, why: str, charged: int) -> None:
        """The interrupter stopped the run's turn (interrupt.py): its CPU budget ran out, or
        ``why`` is ``MEMORY`` and its turn had added ``charged`` bytes to the host."""
        run = self.active.get(invocation)
        if run is None:
            return
        if why == MEMORY:
            code = MEMORY_LIMIT_EXCEEDED
            message = (
                f"Memory limit of {run.memory_limit_bytes >> 20} MiB per run exceeded in one "
                f"turn (it had added {charged >> 20} MiB to the host)"
            )
        elif why == HOST_MEMORY:
            code, message = MEMORY_LIMIT_EXCEEDED, host_memory_message(charged)
        else:
            code, message = CPU_TIME_EXCEEDED, _cpu_message(run)
        self.abort(invocation, code, message)
        if invocation in self.active:
            # Stopped before the harness had its state (or in the middle of ending it).
            error = {"code": code, "name": "Error", "message": message, "stack": ""}
            self.finish(invocation, None, orjson.dumps(error).decode())
        if why in (MEMORY, HOST_MEMORY) and self._collect is not None:
            # What the stopped turn allocated is garbage now: give it back before the
            # supervisor finds the host big.
            asyncio.get_running_loop().call_soon(self._collect, context=contextvars.Context())

    def _after_collection(self, invocation: int, run: ActiveRun, grown: int) -> int:
        """What the run holds once its garbage is collected: SpiderMonkey collects lazily, and a
        run that drops and reallocates big buffers grows the host by garbage it no longer holds
        (V8 collects at its heap limit before it fails a script, too). The collection's CPU time
        is the run's: a run that keeps meeting its limit runs out of CPU instead."""
        if self._collect is None or self.measure_again is None:
            return grown
        started = time.thread_time()
        self._collect()
        run.cpu_s += time.thread_time() - started
        again = self.measure_again(invocation)
        return grown if again is None else again

    def abort(self, invocation: int, code: str, message: str) -> None:
        """End a run from outside it (a limit); its code and message are new strings for JS."""
        self._handed += 2
        self.runtime.abort(invocation, code, message)

    # -- called from JavaScript -----------------------------------------------------------------
    def current(self) -> int:
        """The run whose turn this is, for the shared classes (AbortSignal.timeout...)."""
        return CURRENT_INVOCATION.get(NO_INVOCATION)

    def turns(self, invocation: float) -> int:
        """How many turns the run has had: the same count on two checks a turn apart means no
        promise job of it ran between them (pythonmonkey queues each job on the loop)."""
        run = self.active.get(int(invocation))
        return -1 if run is None else run.turns

    def has_jobs(self) -> bool:
        """Whether promise jobs of the run whose turn this is wait to run: those a new module
        instance's top level queued, which run before its handler is called (instances.js)."""
        loop = asyncio.get_running_loop()
        return isinstance(loop, MutedJobLoop) and loop.has_jobs_of(self.current())

    def now(self) -> float:
        """Monotonic milliseconds, for performance.now()."""
        return time.monotonic() * 1000

    def set_timer(self, callback: Callable[[], object], ms: float) -> int:
        """Calls ``callback`` in ``ms`` milliseconds, in a turn of the run whose turn this is;
        the id is for ``clear_timer``. Instead of pythonmonkey's setTimeout, which keeps the
        asyncio handle, the callback and a stack trace of every timer for the host's life."""
        timer = next(self._timer_ids)
        self._timers[timer] = asyncio.get_running_loop().call_later(
            max(float(ms), 0.0) / 1000, self._fire_timer, timer, callback
        )
        return timer

    def _fire_timer(self, timer: int, callback: Callable[[], object]) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(loop, MutedJobLoop) and loop.has_jobs_of(self.current()):
            # Every promise job queued before a task runs before it (HTML's microtask
            # checkpoint); a long chain outlasts one checkpoint's budget and goes on in turns of
            # its own, which this timer now waits behind.
            self._timers[timer] = loop.call_soon(self._fire_timer, timer, callback)
            return
        del self._timers[timer]
        callback()

    def clear_timer(self, timer: float) -> None:
        handle = self._timers.pop(int(timer), None)
        if handle is not None:
            handle.cancel()

    def random(self, n: float) -> bytearray:
        """Bytes from the operating system, for crypto.getRandomValues and randomUUID."""
        return bytearray(os.urandom(int(n)))

    def crypto(self, op: str, params: str, key: object, data: object) -> bytearray:
        """An operation of crypto.subtle on OpenSSL (webcrypto.py); a tagged bytearray, never
        an exception. Its CPU time is the turn's, so the run's."""
        return webcrypto.perform(str(op), str(params), key, data, self._afford)

    def _afford(self, seconds: float) -> bool:
        """Whether the running turn's run has ``seconds`` of CPU left; if not, its budget is
        spent and its turn ends with cpu_time_exceeded as soon as JavaScript runs again (or,
        without the in-host interrupt, when the turn ends)."""
        run = self.active.get(CURRENT_INVOCATION.get(NO_INVOCATION))
        if run is None:
            return True
        used = run.cpu_s + (time.thread_time() - self.turn_cpu_started)
        if used + seconds <= run.cpu_limit_s:
            return True
        # Spent, not charged the estimate (which may be hours): the record shows the limit.
        run.cpu_s = max(run.cpu_s, run.cpu_limit_s - (time.thread_time() - self.turn_cpu_started))
        run.cpu_s += 1e-6
        if self.expire_turn is not None:
            self.expire_turn()
        return False

    def emit(self, invocation: float, level: str, message: str) -> None:
        self.send(Log(int(invocation), str(level), str(message), iso_now()))

    def respond(self, invocation: float, head: str, body: object, stream: bool) -> None:
        """The head of a module run's response, with its whole body or ``stream`` true."""
        inv = int(invocation)
        meta = orjson.loads(str(head))
        status, status_text = int(meta["status"]), str(meta.get("statusText") or "")
        headers = meta.get("headers") or []
        local = self.local.get(inv)
        if local is not None:
            # A FixedLengthStream's body states its length; JavaScript holds it to that length.
            length = meta.get("length")
            outside_runs(
                local.responder.head,
                status,
                status_text,
                headers,
                binary_to_bytes(body),
                stream is True,
                length if isinstance(length, int) and length >= 0 else None,
                meta.get("manual") is True,
            )
            return
        self.send(
            Response(inv, status, status_text, headers, binary_to_bytes(body), stream is True)
        )

    def fail_early(self, invocation: float, error: str) -> None:
        """A module run's handler failed while its waitUntil work goes on: whoever waits for
        its response gets the failure now (``finish`` comes once that work settles), a listener
        run's client here, a run's caller through the supervisor (``Failed``)."""
        inv = int(invocation)
        value = parse_json_text(error)
        local = self.local.get(inv)
        if local is not None:
            outside_runs(local.responder.finished, None, value)
            return
        run = self.active.get(inv)
        cpu_s = 0.0 if run is None else self._cpu_so_far(run)
        self.send(Failed(inv, value, round(cpu_s * 1000, 3)))

    def _cpu_so_far(self, run: ActiveRun) -> float:
        """Seconds of CPU ``run`` used, the turn running now included (it is the run's)."""
        return run.cpu_before_s + run.cpu_s + (time.thread_time() - self.turn_cpu_started)

    def chunk(self, invocation: float, data: str) -> int:
        """``CHUNK_SENT``; ``CHUNK_FULL`` when the run must wait for ``drained`` before its next
        chunk (a listener run whose client reads slowly, or a run whose reader through the
        supervisor is ``BODY_WINDOW`` bytes behind: ``BodyPull``); ``CHUNK_GONE`` when the
        listener's client has gone, ``CHUNK_UNREAD`` when the reader through the supervisor
        gave up (``BodyCancel``). Either cancels the run's body: a passed-through fetch then
        closes its origin's connection, rather than stream to nobody until the wall limit."""
        inv = int(invocation)
        local = self.local.get(inv)
        if local is not None:
            if local.responder.gone():
                return CHUNK_GONE
            full = bool(outside_runs(local.responder.chunk, str(data).encode("latin-1")))
            if full:
                local.responder.when_drained(functools.partial(self._drained, inv))
                return CHUNK_FULL
            return CHUNK_SENT
        run = self.active.get(inv)
        if run is None:
            return CHUNK_SENT
        if run.body_gone:
            return CHUNK_UNREAD
        payload = str(data).encode("latin-1")
        self.send(Chunk(inv, payload))
        run.body_ahead += len(payload)
        if run.body_ahead < BODY_WINDOW:
            return CHUNK_SENT
        run.body_waiting = True
        return CHUNK_FULL

    def body_read(self, message: BodyPull | BodyCancel) -> None:
        """The reader of a run's streamed body through the supervisor took some, or gave up:
        a body that waited for it goes on (to find, when it gave up, that it is unread)."""
        run = self.active.get(message.id)
        if run is None:
            return
        if isinstance(message, BodyCancel):
            run.body_gone = True
        else:
            run.body_ahead = max(0, run.body_ahead - max(0, message.size))
        if run.body_waiting and (run.body_gone or run.body_ahead < BODY_WINDOW):
            run.body_waiting = False
            self._drained(message.id)

    def _drained(self, inv: int) -> None:
        run = self.active.get(inv)
        if run is not None:
            asyncio.get_running_loop().call_soon(self.runtime.drained, inv, context=run.context)

    def body_end(self, invocation: float, error: object) -> None:
        local = self.local.get(int(invocation))
        if local is not None:
            outside_runs(local.responder.body_end, str(error) if isinstance(error, str) else None)
            return
        # A lone surrogate in the message would stop the encoder: replace it.
        text = str(error).encode("utf-8", "replace").decode() if isinstance(error, str) else None
        self.send(BodyEnd(int(invocation), text))

    def ws_accept(self, invocation: float, head: str) -> int:
        """A listener run answered 101 with a WebSocket (runsocket.py)."""
        return int(outside_runs(runsocket.accept, self, int(invocation), str(head)))

    def ws_send(self, invocation: float, text: object, data: str) -> None:
        """A message of the run's WebSocket: bytes (a binary string), UTF-8 if ``text``."""
        local = self.local.get(int(invocation))
        if local is None or local.socket is None:
            return
        payload = str(data).encode("latin-1")
        outside_runs(local.socket.send, payload.decode() if text is True else payload)

    def ws_close(self, invocation: float, code: float, reason: str) -> None:
        local = self.local.get(int(invocation))
        if local is None or local.socket is None:
            return
        text = str(reason).encode("latin-1").decode("utf-8", "replace")
        outside_runs(local.socket.close, int(code), text)

    def fetch(self, invocation: float, fid: float, meta: str, body: object) -> None:
        request = orjson.loads(str(meta))
        inv = int(invocation)
        run = self.active.get(inv)
        self.send(
            Fetch(
                inv,
                int(fid),
                str(request["method"]),
                str(request["url"]),
                [(str(name), str(value)) for name, value in request.get("headers") or []],
                str(request.get("redirect") or "follow"),
                binary_to_bytes(body),
                0 if run is None else run.hops,
                str(request.get("service") or ""),
            )
        )

    def call(
        self, invocation: float, cid: float, binding: str, op: str, args: str, body: object
    ) -> None:
        """A call to one of the run's bindings (KV...), with bytes (a binary string) or null;
        answered by ``answer``."""
        run = self.active.get(int(invocation))
        self.send(
            Call(
                int(invocation),
                int(cid),
                str(binding),
                str(op),
                parse_json_text(args),
                binary_to_bytes(body),
                0 if run is None else run.hops,
            )
        )

    def fetch_abort(self, invocation: float, fid: float) -> None:
        self.send(FetchAbort(int(invocation), int(fid)))

    def fetch_pull(self, invocation: float, fid: float, size: float) -> None:
        """The run read ``size`` bytes of a fetched body: the supervisor may send more."""
        self.send(FetchPull(int(invocation), int(fid), int(size)))

    def finish(self, invocation: float, output: Any, error: Any) -> None:
        inv = int(invocation)
        run = self.active.pop(inv, None)
        self.codecs.run_ended(inv)
        self.digests.run_ended(inv)
        if self._idle_collector is not None:
            self._idle_collector.run_ended()
        cpu_s = 0.0
        if run is not None:
            if run.wall_timer is not None:
                run.wall_timer.cancel()
            cpu_s = self._cpu_so_far(run)
        output_json = str(output) if isinstance(output, str) else None
        error_value = parse_json_text(error) if isinstance(error, str) else None
        cpu_ms = round(cpu_s * 1000, 3)
        wall_ms = None
        local = self.local.pop(inv, None)
        if local is not None:
            outside_runs(local.responder.finished, output_json, error_value)
            wall_ms = round((time.perf_counter() - local.started) * 1000, 3)
            if local.silent:
                return
            if not local.announced:
                # The whole record of a run the supervisor never heard of: batched, with when
                # it ended (records leave in batches: when, not when told).
                record = RunRecord(
                    local.function_id,
                    local.run_id,
                    output_json,
                    error_value,
                    cpu_ms,
                    wall_ms,
                    time.time(),
                )
                self._record(record)
                return
        self.send(Done(inv, output_json, error_value, cpu_ms, wall_ms))
        if self._collect is not None and self._handed >= COLLECT_AFTER_STRINGS:
            # pythonmonkey's GC finalizer scans a table of the strings Python handed to
            # JavaScript once per string it frees: left to itself the engine collected after
            # thousands of them, in one turn of seconds, and the watchdog killed the host as a
            # CPU hog (0.2% of hello requests failed under sustained load when each /fn/ request
            # handed one over). Requests, answers and bodies now cross as bytearrays and the
            # code, limits and env of a run as strings already handed over (``same``), so few
            # are left (a deploy's code, an abort's message); after a few hundred, one
            # collection (~20 ms), outside any run's context so that no run is charged for it.
            self._handed = 0
            asyncio.get_running_loop().call_soon(self._collect, context=contextvars.Context())

    def _record(self, record: RunRecord) -> None:
        """Records of listener runs leave in batches (``Ended``): one frame and one wake-up of
        the supervisor for many requests, off the requests' path."""
        self._records.append(record)
        self._batch_grew()

    def access(self, record: AccessRecord) -> None:
        """A listener request's access record, in the same batches as the runs' records. With
        the pipe backed up it is dropped, only counted: serving never waits for the log."""
        if self.backlog() > ACCESS_BACKLOG:
            self._access_dropped += 1
        else:
            self._access.append(record)
        self._batch_grew()

    def _batch_grew(self) -> None:
        if len(self._records) + len(self._access) >= RECORDS_PER_BATCH:
            self.flush_records()
        elif self._records_timer is None:
            self._records_timer = contextvars.Context().run(
                asyncio.get_running_loop().call_later, RECORDS_EVERY, self._flush_due
            )

    def _flush_due(self) -> None:
        self.flush_records()

    def flush_records(self, final: bool = False) -> None:
        """Send what waits. The count of dropped access records waits for the pipe to be
        clear again (or the host's end): one line with the total, not one per batch."""
        if self._records_timer is not None:
            self._records_timer.cancel()
            self._records_timer = None
        dropped = self._access_dropped
        if dropped and not final and self.backlog() > ACCESS_BACKLOG:
            dropped = 0
        if self._records or self._access or dropped:
            records, self._records = self._records, []
            access, self._access = self._access, []
            self._access_dropped -= dropped
            self.send(Ended(records, access, dropped))

    def for_javascript(self) -> dict[str, Callable[..., Any]]:
        """The ``host`` object the harness gets, under JavaScript's names."""
        return {
            "current": self.current,
            "now": self.now,
            "turns": self.turns,
            "hasJobs": self.has_jobs,
            "random": self.random,
            "setTimer": self.set_timer,
            "clearTimer": self.clear_timer,
            "crypto": self.crypto,
            "codec": self.codecs.call,
            "digest": self.digests.call,
            "emit": self.emit,
            "respond": self.respond,
            "failEarly": self.fail_early,
            "chunk": self.chunk,
            "bodyEnd": self.body_end,
            "wsAccept": self.ws_accept,
            "wsSend": self.ws_send,
            "wsClose": self.ws_close,
            "fetch": self.fetch,
            "fetchAbort": self.fetch_abort,
            "fetchPull": self.fetch_pull,
            "call": self.call,
            "finish": self.finish,
        }

    def same(self, text: str) -> str:
        """One Python string object for equal texts handed to JavaScript again and again.

        pythonmonkey tracks every Python string it hands to JavaScript in a table that its GC
        finalizer scans linearly for each string it frees (jsTypeFactory.cc), so a GC cycle costs
        the square of the strings passed since the last one: under load that grew into turns
        of seconds. Passing the same object for the same code, limits, file name and env keeps
        a warm run from adding any.
        """
        known = self._strings.get(text)
        if known is None:
            if len(self._strings) >= STRING_CACHE_ENTRIES:
                self._strings.clear()
            self._strings[text] = known = text
            self._handed += 1
        return known

    # -- called for each frame from the supervisor ----------------------------------------------
    def handle(self, message: ToHost) -> None:
        match message:
            case Run():
                self.start_run(message)
            case Fetched():
                self.deliver(message)
            case FetchChunk() | FetchEnd():
                self.deliver_body(message)
            case BodyPull() | BodyCancel():
                self.body_read(message)
            case Answered():
                self.answer(message)
            case Check():
                self._handed += 1
                problem = self.runtime.check(message.code)
                found = orjson.loads(str(problem)) if isinstance(problem, str) else None
                self.send(Checked(message.id, found))

    def _begin(self, inv: int, limits: Limits) -> ActiveRun:
        run = ActiveRun(
            cpu_limit_s=limits.cpu_ms / 1000,
            memory_limit_bytes=limits.memory_mb << 20,
        )
        if run.memory_limit_bytes:
            self.measure_memory = True
        self.active[inv] = run
        run.wall_ms = limits.wall_ms
        run.wall_deadline = asyncio.get_running_loop().time() + limits.wall_ms / 1000
        run.context.run(CURRENT_INVOCATION.set, inv)
        return run

    def start_local_run(
        self,
        route: Route,
        request_meta: bytes,
        body: bytes | None,
        responder: LocalResponder,
        run_id: str,
        hops: int = 0,
    ) -> None:
        """Run ``route``'s function for a request of this host's own listener, whose hop count
        was ``hops``."""
        inv = next(self._local_ids)
        run = self._begin(inv, route.limits)
        run.hops = hops
        self.local[inv] = LocalRun(responder, route.function_id, run_id)
        common = (
            inv,
            route.code,
            route.limits_json,
            route.filename,
            route.env_json,
            route.bindings_json,
        )
        loop = asyncio.get_running_loop()
        if route.module:
            loop.call_soon(
                self.runtime.runModule,
                *common,
                route.instance,
                bytearray(request_meta),
                for_javascript(body),
                context=run.context,
            )
        elif route.service_worker:
            loop.call_soon(
                self.runtime.runWorker,
                *common,
                route.instance,
                bytearray(request_meta),
                for_javascript(body),
                None,
                context=run.context,
            )
        else:
            loop.call_soon(self.runtime.run, *common, context=run.context)

    def warm(self, route: Route) -> None:
        """Make an instance of ``route``'s module or service worker before its first request
        (after a deploy), so that request finds it warm, as Workers start an isolate ahead of
        traffic: its top-level code runs now, under the function's limits; its logs, fetches,
        binding calls and record are dropped (a script that turns out to be no worker ends
        there, and keeps nothing)."""
        if not (route.module or route.service_worker) or not route.instance:
            return
        inv = next(self._local_ids)
        run = self._begin(inv, route.limits)
        self.local[inv] = LocalRun(_NoAnswer(), route.function_id, "", silent=True)
        asyncio.get_running_loop().call_soon(
            self.runtime.warmModule if route.module else self.runtime.warmWorker,
            inv,
            route.code,
            route.limits_json,
            route.filename,
            route.env_json,
            route.bindings_json,
            route.instance,
            context=run.context,
        )

    def start_run(self, message: Run) -> None:
        inv = message.id
        loop = asyncio.get_running_loop()
        run = self._begin(inv, message.limits)
        run.hops = message.hops
        common = (
            inv,
            self.same(message.code),
            self.same(limits_json(message.limits)),
            self.same(message.filename or "index.js"),
            self.same(orjson.dumps(message.env).decode()),
            self.same(orjson.dumps(message.bindings).decode()),
        )
        request = message.request
        scheduled = message.scheduled
        instance = self.same(message.instance)
        entrypoint = message.entrypoint or None
        props = None if message.props is None else json_bytes(message.props)
        if message.kind == "module" and message.rpc is not None:
            loop.call_soon(
                self.runtime.runRpc,
                *common,
                instance,
                json_bytes({**message.rpc, "entrypoint": entrypoint, "props": message.props}),
                context=run.context,
            )
        elif message.kind == "module" and scheduled is not None:
            loop.call_soon(
                self.runtime.runScheduled,
                *common,
                instance,
                json_bytes(scheduled),
                context=run.context,
            )
        elif message.kind == "module" and request is not None:
            meta = _request_meta(request)
            loop.call_soon(
                self.runtime.runModule,
                *common,
                instance,
                json_bytes(meta),
                for_javascript(request.body),
                entrypoint,
                props,
                context=run.context,
            )
        elif message.kind == "service-worker":
            meta = None
            if request is not None:
                meta = _request_meta(request)
            loop.call_soon(
                self.runtime.runWorker,
                *common,
                instance,
                None if meta is None else json_bytes(meta),
                for_javascript(None if request is None else request.body),
                None if scheduled is None else json_bytes(scheduled),
                context=run.context,
            )
        else:
            loop.call_soon(self.runtime.run, *common, context=run.context)

    def answer(self, message: Answered) -> None:
        run = self.active.get(message.id)
        if run is None:
            return
        # The answer is handed over as JSON text, parsed on the JavaScript side: one string,
        # however deep the value, crosses the bridge.
        if message.error is not None:
            answer: dict[str, Any] = {
                "error": {"code": message.error.code, "message": message.error.message}
            }
        else:
            answer = {"result": message.result}
        asyncio.get_running_loop().call_soon(
            self.runtime.answer,
            message.id,
            message.cid,
            json_bytes(answer),
            for_javascript(message.body),
            context=run.context,
        )

    def deliver(self, message: Fetched) -> None:
        inv = message.id
        run = self.active.get(inv)
        if run is None:
            return
        if message.error is not None:
            result: dict[str, Any] = {"error": message.error, "code": message.code}
        else:
            result = {
                "status": message.status,
                "statusText": message.status_text,
                "headers": message.headers,
                "url": message.url,
                "redirected": message.redirected,
                "stream": message.stream,
            }
        asyncio.get_running_loop().call_soon(
            self.runtime.deliver,
            inv,
            message.fid,
            json_bytes(result),
            for_javascript(message.body),
            context=run.context,
        )

    def deliver_body(self, message: FetchChunk | FetchEnd) -> None:
        """More of a fetched body that streams, or its end."""
        run = self.active.get(message.id)
        if run is None:
            return
        loop = asyncio.get_running_loop()
        if isinstance(message, FetchChunk):
            loop.call_soon(
                self.runtime.fetchChunk,
                message.id,
                message.fid,
                bytearray(message.data),
                context=run.context,
            )
        else:
            loop.call_soon(
                self.runtime.fetchEnd, message.id, message.fid, message.error, context=run.context
            )
