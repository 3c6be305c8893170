"""A host process: one SpiderMonkey context, locked down once, running many invocations.

Started by the supervisor as ``python -m vortex.isolates.host CLOCK_PATH SES_PATH WEBAPI_PATH``
with an empty environment. It reads frames from stdin and writes frames to the original stdout;
anything printed by accident goes to stderr instead, so it can never corrupt the pipe. What the
frames mean for JavaScript is ``bridge.py``'s business.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import functools
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vortex.isolates import frames
from vortex.isolates.bridge import CURRENT_INVOCATION, Host
from vortex.isolates.growth import GrowthWatch
from vortex.isolates.hostroutes import RouteTable
from vortex.isolates.httpserve import FunctionServer, HttpConnection, ListenerConfig
from vortex.isolates.interrupt import Interrupter, InterruptUnavailable
from vortex.isolates.jobloop import MutedJobLoop, check_muting
from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

HARNESS = Path(__file__).with_name("harness.js")
try:
    _MALLOC_TRIM: Callable[[int], int] | None = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc: freed memory shows later, if at all
    _MALLOC_TRIM = None
# pythonmonkey's own web globals are backed by Python objects (its atob, URL, XMLHttpRequest...).
# They are deleted before the web APIs bundle loads, so no library in it can pick one up.
PYTHONMONKEY_WEB_GLOBALS = (
    "atob",
    "btoa",
    "URL",
    "URLSearchParams",
    "Event",
    "EventTarget",
    "DOMException",
    "XMLHttpRequest",
    "XMLHttpRequestEventTarget",
    "XMLHttpRequestUpload",
    "ProgressEvent",
)


def install_turn_clock(
    clock: TurnClock, host: Host, growth: GrowthWatch, interrupter: Interrupter | None = None
) -> None:
    original = asyncio.events.Handle._run
    host.measure_again = growth.measure_again

    def run_with_clock(handle: asyncio.Handle) -> None:
        invocation = handle._context.get(CURRENT_INVOCATION, NO_INVOCATION)  # type: ignore[attr-defined]
        run = host.active.get(invocation)
        if invocation != NO_INVOCATION and run is None:
            # The run has ended: nothing of it may run any more. Its timers are cleared by the
            # harness, but awaits and promise jobs are scheduled by the engine, so they are
            # dropped here; a compartment whose jobs never run is garbage once unreferenced.
            return
        resident_before = charged_before = 0
        if host.measure_memory and run is not None:
            resident_before, charged_before = growth.before_turn(invocation)
            clock.turn_memory(invocation, resident_before, charged_before)
        # CPU time of this thread, not wall time: a host descheduled mid-turn (a busy machine,
        # a VM's steal time) has not used its run's CPU.
        started, cpu_started = time.monotonic(), time.thread_time()
        host.turn_cpu_started = cpu_started
        clock.enter(started, invocation, cpu_started)
        armed = interrupter if run is not None else None
        if armed is not None and run is not None:
            armed.arm(
                cpu_started,
                run.cpu_limit_s - run.cpu_s,
                run.memory_limit_bytes if host.measure_memory else 0,
                resident_before,
                charged_before,
            )
        try:
            original(handle)
        finally:
            stopped = armed.disarm() if armed is not None else None
            clock.leave()
            grown = growth.after_turn(invocation, host.active, host.measure_memory)
            if armed is not None and stopped is not None:
                host.stopped(invocation, stopped, armed.charged)
            elif invocation != NO_INVOCATION:
                host.turn_ended(invocation, time.thread_time() - cpu_started, grown)

    asyncio.events.Handle._run = run_with_clock  # type: ignore[method-assign,assignment]


def make_interrupter(growth: GrowthWatch, collect: Callable[[], object]) -> Interrupter | None:
    """The JS thread's interrupter, unless ``VORTEX_HOST_INTERRUPT=0`` or the engine lacks it
    (then the supervisor alone stops a turn that overruns, by killing the host)."""
    if os.environ.get("VORTEX_HOST_INTERRUPT", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        return Interrupter(growth.resident, collect)
    except InterruptUnavailable as exc:
        print(f"vortex host {os.getpid()}: no interrupts: {exc}", file=sys.stderr, flush=True)
        return None


def _ignore_js_rejections(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exception = context.get("exception")
    if exception is not None and type(exception).__module__.startswith("pythonmonkey"):
        return
    loop.default_exception_handler(context)


def collect_garbage(collect: Callable[[], Any]) -> None:
    """A full collection, then what it freed handed back to the system: the engine frees with
    malloc, which keeps freed memory (big buffers included) in its arenas, so the host's
    resident size, by which runs and hosts are measured, would not show what was freed."""
    collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def boot(ses_path: Path, webapi_path: Path) -> Callable[[], Any]:
    """Load SES, the web APIs and the harness into this process's one JS context.

    Returns what makes ``makeRuntime``, to be called on the running event loop (hardening the
    web classes builds sample streams, whose promises pythonmonkey schedules on it). The order
    matters: the web APIs are evaluated before ``lockdown()`` (which the harness calls) and
    hardened right after it.
    """
    import pythonmonkey as pm

    # Muted errors, inherited by all code compiled from these scripts (user code too): see jobloop.
    pm.eval(ses_path.read_text(encoding="utf-8"), {"filename": "ses.js", "mutedErrors": True})
    names = ", ".join(f"'{name}'" for name in PYTHONMONKEY_WEB_GLOBALS)
    pm.eval(f"for (const name of [{names}]) delete globalThis[name];", {"mutedErrors": True})
    webapi = pm.eval(
        webapi_path.read_text(encoding="utf-8") + "\n;VortexWebAPI",
        {"filename": "webapi.js", "mutedErrors": True},
    )
    pm.eval("delete globalThis.VortexWebAPI;", {"mutedErrors": True})
    prepare = pm.eval(
        HARNESS.read_text(encoding="utf-8"), {"filename": "vortex-runtime.js", "mutedErrors": True}
    )
    return lambda: prepare(webapi)


LISTENER_FINISH_TIMEOUT = 30.0
"""Seconds a host given its last frame waits for its listener runs (the wall limit's default)."""
MAX_HANDOFF = 256 << 10
"""The most bytes the supervisor reads of a connection before it hands it over (listener.py)."""


def take_connections(
    loop: asyncio.AbstractEventLoop, channel: socket.socket, server: FunctionServer
) -> None:
    """Serve the connections the supervisor hands over on ``channel`` (SCM_RIGHTS), each with
    the bytes it already read from it."""

    def received() -> None:
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(channel, MAX_HANDOFF, 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                loop.remove_reader(channel.fileno())
                return
            if not fds:
                if not data:  # the supervisor is gone
                    loop.remove_reader(channel.fileno())
                    return
                continue
            connection = socket.socket(fileno=fds[0])
            connection.setblocking(False)
            # Held until done: the loop keeps only weak references to tasks, and one collected
            # while it waits would lose its connection without a word.
            task = loop.create_task(
                loop.connect_accepted_socket(
                    functools.partial(HttpConnection, server, data), connection
                )
            )
            connecting.add(task)
            task.add_done_callback(connecting.discard)

    connecting: set[asyncio.Task[Any]] = set()
    channel.setblocking(False)
    loop.add_reader(channel.fileno(), received)


async def serve(
    clock: TurnClock, prepare: Callable[[], Any], out_fd: int, channel_fd: int | None = None
) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=frames.MAX_FRAME)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0)
    )
    write_transport, _ = await loop.connect_write_pipe(
        asyncio.Protocol, os.fdopen(out_fd, "wb", buffering=0)
    )

    # Frames of one loop iteration (a run's response and its end, say) leave in one write: a
    # write to the pipe is a system call, and it was a fifth of a host's time for hello runs.
    # Log lines leave at once, with what waits before them: a turn that never ends (a runaway
    # loop, killed by the supervisor) must not take the lines it logged before it with it.
    outgoing: list[bytes] = []

    def flush() -> None:
        if outgoing:
            data = b"".join(outgoing)
            outgoing.clear()
            contextvars.Context().run(write_transport.write, data)

    def send(message: dict[str, Any]) -> None:
        # Outside any run's context: when the pipe is full, the transport registers its own
        # callback to flush later, and asyncio gives that callback the current context. Made
        # inside a run's turn, it would belong to that run, and once the run ended the turn
        # clock would drop it (nothing of an ended run runs): the pipe would never drain. The
        # same goes for the deferred flush.
        if not outgoing and message.get("t") != "log":
            loop.call_soon(flush, context=contextvars.Context())
        outgoing.append(frames.encode(message))
        if message.get("t") == "log":
            contextvars.Context().run(flush)

    # pythonmonkey reports a promise rejected before its handler is attached (as every async
    # function body that throws at once is) to the loop's exception handler, which would print
    # it and stop pythonmonkey's loop helpers. Rejections of runs are handled by the harness.
    loop.set_exception_handler(_ignore_js_rejections)
    import pythonmonkey as pm  # loaded by boot() already

    host = Host(None, send, collect=lambda: collect_garbage(pm.collect))
    host.runtime = prepare()(host.for_javascript())
    growth = GrowthWatch(clock)
    interrupter = make_interrupter(growth, lambda: collect_garbage(pm.collect))
    install_turn_clock(clock, host, growth, interrupter)
    problem = check_muting(loop)
    if problem is not None:
        print(f"vortex host {os.getpid()}: {problem}", file=sys.stderr, flush=True)
    routes = RouteTable(host.send, host.same, clock.routes_generation)
    server = FunctionServer(host, routes)
    if channel_fd is not None:
        take_connections(loop, socket.socket(fileno=channel_fd), server)
    # The supervisor gives a host that stops its own runaways a grace before it kills it.
    send({"t": "ready", "pid": os.getpid(), "interrupts": interrupter is not None})
    while True:
        message = await frames.read(reader)
        if message is None:
            await server.finish(LISTENER_FINISH_TIMEOUT)
            host.flush_records()
            flush()
            return
        kind = message.get("t")
        if kind == "route":
            routes.answered(message)
        elif kind == "warm":
            warmed = routes.prime([str(h) for h in message["hostnames"]], message)
            if warmed is not None:
                host.warm(warmed)
        elif kind == "listen":
            server.config = ListenerConfig.from_frame(message)
        elif kind == "drain":
            server.drain()
        else:
            host.handle(message)


def main() -> None:
    clock_path, ses_path, webapi_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    channel_fd = int(sys.argv[4]) if len(sys.argv) > 4 else None
    # Keep the protocol on a private descriptor; stray prints land on stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    clock = TurnClock(clock_path)
    prepare = boot(ses_path, webapi_path)
    status = 0
    try:
        with asyncio.Runner(loop_factory=MutedJobLoop) as runner:
            runner.run(serve(clock, prepare, out_fd, channel_fd))
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stderr.flush()
    # pythonmonkey's teardown is slow and has crashed at exit; nothing is left to flush.
    os._exit(status)


if __name__ == "__main__":
    main()
