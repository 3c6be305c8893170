"""A host process: one SpiderMonkey context, locked down once, running many invocations.

Started by the supervisor as ``python -m vortex.isolates.host CLOCK_PATH SES_PATH WEBAPI_PATH``
with an empty environment. It reads frames (protocol.py) from stdin and writes frames to the
original stdout; anything printed by accident goes to stderr instead, so it can never corrupt the
pipe. What the frames mean for JavaScript is ``bridge.py``'s business.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vortex.assets.bytecache import ByteCache
from vortex.isolates import protocol
from vortex.isolates.bridge import CURRENT_INVOCATION, Host
from vortex.isolates.bufferhook import BUFFER_HOOK_JS
from vortex.isolates.collection import beneath_javascript, collect_garbage
from vortex.isolates.growth import GrowthWatch
from vortex.isolates.hostassets import AssetFetcher
from vortex.isolates.hostroutes import RouteTable
from vortex.isolates.httpserve import FunctionServer, ListenerConfig
from vortex.isolates.intake import Intake
from vortex.isolates.interrupt import Interrupter, InterruptUnavailable
from vortex.isolates.jobloop import (
    MutedJobLoop,
    check_job_wrappers,
    check_muting,
    quiet_job_counter,
)
from vortex.isolates.pressure import MemoryPressure
from vortex.isolates.protocol import (
    AssetData,
    Drain,
    Frame,
    Listen,
    Log,
    Ping,
    Pong,
    Ready,
    Routed,
    Warm,
)
from vortex.isolates.stackhook import STACK_HOOK_JS
from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

HARNESS_NAME = "harness.js"
"""The harness bundle (js/src/harness, built by ``npm run build``) lies beside the web APIs
bundle: js/dist in a checkout, where the Dockerfile installs both in an image."""
LOL_HTML_NAME = "lol_html.wasm"
"""lol-html's WebAssembly, for HTMLRewriter (js/src/lolhtml.js), lies beside them too."""
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
    clock: TurnClock,
    host: Host,
    growth: GrowthWatch,
    interrupter: Interrupter | None = None,
    pressure: MemoryPressure | None = None,
) -> None:
    original = asyncio.events.Handle._run
    host.measure_again = growth.measure_again
    host.on_behalf_of = growth.on_behalf_of
    host.expire_turn = interrupter.expire if interrupter is not None else None
    loop = asyncio.get_running_loop()
    checkpoint = loop.run_jobs_of if isinstance(loop, MutedJobLoop) else None
    has_jobs = loop.has_jobs_of if isinstance(loop, MutedJobLoop) else None
    drain = loop.drain if isinstance(loop, MutedJobLoop) else None
    after_turn = loop.after_turn if isinstance(loop, MutedJobLoop) else None
    if isinstance(loop, MutedJobLoop):
        loop.turns_end_with_jobs = True
        loop.current_owner = functools.partial(CURRENT_INVOCATION.get, NO_INVOCATION)
        loop.always_alive = NO_INVOCATION
        loop.alive = host.active

    def run_with_clock(handle: asyncio.Handle) -> None:
        context: contextvars.Context = handle._context  # type: ignore[attr-defined]
        invocation = context.get(CURRENT_INVOCATION, NO_INVOCATION)
        run = host.active.get(invocation)
        if invocation != NO_INVOCATION and run is None and handle._callback != drain:  # type: ignore[attr-defined]
            # The run has ended: nothing of it may run any more. Its timers are cleared by the
            # harness, and its promise jobs are dropped by the job loop (jobloop.py): a
            # compartment whose jobs never run is garbage once unreferenced.
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
                clock.memory_ceiling() if host.measure_memory else 0,
            )
        try:
            original(handle)
            if (
                checkpoint is not None
                and has_jobs is not None
                and has_jobs(invocation)  # most turns queue none: no call for them
                and (invocation == NO_INVOCATION or invocation in host.active)
            ):
                # The promise jobs this turn queued for its run, in this turn (jobloop.py).
                context.run(checkpoint, invocation)
        finally:
            if after_turn is not None:
                after_turn()
            stopped = armed.disarm() if armed is not None else None
            clock.leave()
            grown = growth.after_turn(invocation, host.active, host.measure_memory)
            if pressure is not None and host.measure_memory:
                pressure.after_turn()
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


def _read_or_none(path: Path) -> bytearray | None:
    """Read when a run first uses HTMLRewriter, so hosts that never do keep no copy; a
    bytearray, which JavaScript copies (see js/src/util.js hostBytes)."""
    try:
        return bytearray(path.read_bytes())
    except OSError:
        return None


def boot(ses_path: Path, webapi_path: Path) -> Callable[[], Any]:
    """Load SES, the web APIs and the harness into this process's one JS context.

    Returns what makes ``makeRuntime``, to be called on the running event loop (hardening the
    web classes builds sample streams, whose promises pythonmonkey schedules on it). The order
    matters: the web APIs are evaluated before ``lockdown()`` (which the harness calls) and
    hardened right after it.
    """
    import pythonmonkey as pm

    # Before SES, which keeps the `stack` getter it finds (stackhook.py).
    pm.eval(STACK_HOOK_JS, {"filename": "vortex-stack.js", "mutedErrors": True})
    pm.eval(BUFFER_HOOK_JS, {"filename": "vortex-buffers.js", "mutedErrors": True})
    # Muted errors, inherited by all code compiled from these scripts (user code too): see jobloop.
    pm.eval(ses_path.read_text(encoding="utf-8"), {"filename": "ses.js", "mutedErrors": True})
    names = ", ".join(f"'{name}'" for name in PYTHONMONKEY_WEB_GLOBALS)
    pm.eval(f"for (const name of [{names}]) delete globalThis[name];", {"mutedErrors": True})
    webapi = pm.eval(
        webapi_path.read_text(encoding="utf-8") + "\n;VortexWebAPI",
        {"filename": "webapi.js", "mutedErrors": True},
    )
    pm.eval("delete globalThis.VortexWebAPI;", {"mutedErrors": True})
    harness = webapi_path.with_name(HARNESS_NAME)
    lol_html = webapi_path.with_name(LOL_HTML_NAME)
    prepare = pm.eval(
        harness.read_text(encoding="utf-8") + "\n;VortexHarness.prepare",
        {"filename": "vortex-runtime.js", "mutedErrors": True},
    )
    pm.eval("delete globalThis.VortexHarness;", {"mutedErrors": True})

    def make_runtime(host: dict[str, Callable[..., Any]]) -> Any:
        # crypto.subtle's operations on OpenSSL are the web APIs' own business (subtle.js).
        webapi["internals"]["setCryptoHost"](host["crypto"])
        webapi["internals"]["setCodecHost"](host["codec"])  # Compression Streams (codecs.py)
        webapi["internals"]["setDigestHost"](host["digest"])  # crypto.DigestStream (digests.py)
        webapi["internals"]["setRewriterWasm"](lambda: _read_or_none(lol_html))
        return prepare(webapi)(host)

    return lambda: make_runtime


YOUNG_OBJECTS_PER_COLLECTION = 10_000
"""Python's collector runs when this many more container objects are made than freed (700 by
default). A burst of connections makes thousands of transports, handles and requests that
outlive the young generation: with 700, 10,000 connections cost a host ~0.22 s of collections,
~10% of its CPU; with this and the boot's objects frozen, 0.04 s (bench/burstcpu.py)."""


def stop_collecting_boot_objects() -> None:
    """Everything made by the boot (the engine's bindings, the runtime, the web APIs) lives as
    long as the host: frozen, no full collection walks it again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_PER_COLLECTION, *gc.get_threshold()[1:])


LISTENER_FINISH_TIMEOUT = 30.0
"""Seconds a host given its last frame waits for its listener runs (the wall limit's default)."""
EXIT_FLUSH_TIMEOUT = 2.0
"""Seconds a host that is done waits for its last frames to leave (the supervisor reads them
until the pipe closes; it kills a host that takes longer than its grace)."""


async def _written(transport: asyncio.WriteTransport, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    # A bare Protocol has no awaitable drain; this wait is once per host, at its end.
    while transport.get_write_buffer_size() and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def serve(
    clock: TurnClock, prepare: Callable[[], Any], out_fd: int, channel_fd: int | None = None
) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=protocol.MAX_FRAME)
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
    outgoing = protocol.Outbox()

    def flush() -> None:
        if outgoing:
            contextvars.Context().run(write_transport.write, outgoing.take())

    def send(message: Frame) -> None:
        # Outside any run's context: when the pipe is full, the transport registers its own
        # callback to flush later, and asyncio gives that callback the current context. Made
        # inside a run's turn, it would belong to that run, and once the run ended the turn
        # clock would drop it (nothing of an ended run runs): the pipe would never drain. The
        # same goes for the deferred flush.
        log_line = type(message) is Log
        if not outgoing and not log_line:
            loop.call_soon(flush, context=contextvars.Context())
        outgoing.add(message)
        if log_line:
            contextvars.Context().run(flush)

    # pythonmonkey reports a promise rejected before its handler is attached (as every async
    # function body that throws at once is) to the loop's exception handler, which would print
    # it and stop pythonmonkey's loop helpers. Rejections of runs are handled by the harness.
    loop.set_exception_handler(_ignore_js_rejections)
    import pythonmonkey as pm  # loaded by boot() already

    keeping_code = beneath_javascript(pm.collect)
    collect = functools.partial(collect_garbage, keeping_code)
    host = Host(None, send, collect=collect)
    host.backlog = write_transport.get_write_buffer_size
    host.runtime = prepare()(host.for_javascript())
    # Absent from a harness built before node:async_hooks (a checkout whose `npm run build` is
    # older than this file): the boot's trampoline then stays, and promise jobs still run.
    trampoline = host.runtime.jobTrampoline
    if isinstance(loop, MutedJobLoop) and trampoline is not None:
        loop.use_trampoline(trampoline)
    growth = GrowthWatch(clock)
    # Called inside the interrupt callback, beneath the running script already.
    interrupter = make_interrupter(growth, lambda: collect_garbage(pm.collect))
    pressure = MemoryPressure(clock, growth, host.active, host.abort, collect)
    install_turn_clock(clock, host, growth, interrupter, pressure)
    for problem in (check_muting(loop), check_job_wrappers(loop), quiet_job_counter(loop)):
        if problem is not None:
            print(f"vortex host {os.getpid()}: {problem}", file=sys.stderr, flush=True)
    routes = RouteTable(host.send, host.same, clock.routes_generation)
    assets = AssetFetcher(host.send)
    server = FunctionServer(host, routes, assets)
    intake = Intake(loop, server)
    if channel_fd is not None:
        intake.take_handoffs(socket.socket(fileno=channel_fd))
    # The supervisor gives a host that stops its own runaways a grace before it kills it.
    stop_collecting_boot_objects()
    send(Ready(os.getpid(), interrupter is not None))
    while True:
        try:
            message = await protocol.read(reader, protocol.FOR_HOST)
        except protocol.FrameError as exc:
            # The supervisor sees the host gone and fails its runs: nothing here can be trusted.
            print(f"vortex host {os.getpid()}: {exc}", file=sys.stderr, flush=True)
            os._exit(1)
        if message is None:
            routes.orphan()
            assets.orphan()
            await server.finish(LISTENER_FINISH_TIMEOUT)
            host.flush_records(final=True)
            flush()
            # What the pipe did not take at once is in the transport's buffer: returning now
            # would close the loop and lose it (main() ends with os._exit).
            await _written(write_transport, EXIT_FLUSH_TIMEOUT)
            return
        match message:
            case Ping():
                # Answered between two turns: a host that answers has a loop that turns.
                send(Pong(message.seq))
            case Routed():
                routes.answered(message)
            case AssetData():
                assets.answered(message)
            case Warm():
                warmed = routes.prime(message.hostnames, message.route)
                if warmed is not None:
                    host.warm(warmed)
            case Listen():
                server.config = ListenerConfig.from_frame(message)
                assets.cache = ByteCache(message.asset_cache_bytes)
                host.access_records = message.access_records
            case Drain():
                server.drain()
            case _:
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
