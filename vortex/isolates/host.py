"""A host process: one SpiderMonkey context, locked down once, running many invocations.

Started by the supervisor as ``python -m vortex.isolates.host CLOCK_PATH SES_PATH`` with an empty
environment. It reads frames from stdin and writes frames to the original stdout; anything
printed by accident goes to stderr instead, so it can never corrupt the pipe.

Every invocation runs in its own ``contextvars.Context`` holding its id. asyncio copies the
current context into each callback it schedules, and pythonmonkey schedules timers and promise
jobs through asyncio, so every turn of JavaScript carries the id of the invocation it belongs to.
That is what lets the turn clock say who is running and charge CPU time to the right run.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from vortex.isolates import frames
from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

CURRENT_INVOCATION: contextvars.ContextVar[int] = contextvars.ContextVar("vortex_invocation")
HARNESS = Path(__file__).with_name("harness.js")


def iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


@dataclass(slots=True)
class ActiveRun:
    cpu_limit_s: float
    wall_timer: asyncio.TimerHandle | None = None
    cpu_s: float = 0.0


class Host:
    def __init__(self, runtime: Any, send: Callable[[dict[str, Any]], None]) -> None:
        self.runtime = runtime
        self.send = send
        self.active: dict[int, ActiveRun] = {}
        self.turn_started = 0.0

    # -- called by the turn clock around every callback of the loop --------------------------
    def turn_ended(self, invocation: int, elapsed: float) -> None:
        run = self.active.get(invocation)
        if run is None:
            return
        run.cpu_s += elapsed
        if run.cpu_s > run.cpu_limit_s:
            self.runtime.abort(
                invocation,
                "cpu_time_exceeded",
                f"CPU time limit of {round(run.cpu_limit_s * 1000)} ms exceeded",
            )

    # -- called from JavaScript -----------------------------------------------------------------
    def emit(self, invocation: float, level: str, message: str) -> None:
        self.send(
            {
                "t": "log",
                "id": int(invocation),
                "level": str(level),
                "message": str(message),
                "timestamp": iso_now(),
            }
        )

    def finish(self, invocation: float, output: Any, error: Any) -> None:
        inv = int(invocation)
        run = self.active.pop(inv, None)
        cpu_s = 0.0
        if run is not None:
            if run.wall_timer is not None:
                run.wall_timer.cancel()
            cpu_s = run.cpu_s + (time.monotonic() - self.turn_started)
        self.send(
            {
                "t": "done",
                "id": inv,
                "output": str(output) if isinstance(output, str) else None,
                "error": orjson.loads(str(error)) if isinstance(error, str) else None,
                "cpu_ms": round(cpu_s * 1000, 3),
            }
        )

    # -- called for each frame from the supervisor ----------------------------------------------
    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind == "run":
            self.start_run(message)
        elif kind == "check":
            problem = self.runtime.check(str(message["code"]))
            self.send(
                {
                    "t": "checked",
                    "id": message["id"],
                    "problem": orjson.loads(str(problem)) if isinstance(problem, str) else None,
                }
            )

    def start_run(self, message: dict[str, Any]) -> None:
        inv = int(message["id"])
        limits: dict[str, Any] = message["limits"]
        loop = asyncio.get_running_loop()
        run = ActiveRun(cpu_limit_s=limits["cpu_ms"] / 1000)
        self.active[inv] = run
        run.wall_timer = loop.call_later(
            limits["wall_ms"] / 1000,
            self.runtime.abort,
            inv,
            "wall_time_exceeded",
            f"Wall time limit of {limits['wall_ms']} ms exceeded",
        )
        context = contextvars.Context()
        context.run(CURRENT_INVOCATION.set, inv)
        loop.call_soon(
            self.runtime.run,
            inv,
            str(message["code"]),
            orjson.dumps(limits).decode(),
            str(message.get("filename") or "index.js"),
            context=context,
        )


def install_turn_clock(clock: TurnClock, host: Host) -> None:
    original = asyncio.events.Handle._run

    def run_with_clock(handle: asyncio.Handle) -> None:
        invocation = handle._context.get(CURRENT_INVOCATION, NO_INVOCATION)  # type: ignore[attr-defined]
        started = time.monotonic()
        host.turn_started = started
        clock.enter(started, invocation)
        try:
            original(handle)
        finally:
            clock.leave()
            if invocation != NO_INVOCATION:
                host.turn_ended(invocation, time.monotonic() - started)

    asyncio.events.Handle._run = run_with_clock  # type: ignore[method-assign,assignment]


def _ignore_js_rejections(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exception = context.get("exception")
    if exception is not None and type(exception).__module__.startswith("pythonmonkey"):
        return
    loop.default_exception_handler(context)


def boot(ses_path: Path) -> Any:
    """Load SES and the harness into this process's one JS context; return the runtime."""
    import pythonmonkey as pm

    pm.eval(ses_path.read_text(encoding="utf-8"), {"filename": "ses.js"})
    make_runtime = pm.eval(HARNESS.read_text(encoding="utf-8"), {"filename": "vortex-runtime.js"})
    return make_runtime


async def serve(clock: TurnClock, make_runtime: Any, out_fd: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=frames.MAX_FRAME)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0)
    )
    write_transport, _ = await loop.connect_write_pipe(
        asyncio.Protocol, os.fdopen(out_fd, "wb", buffering=0)
    )

    def send(message: dict[str, Any]) -> None:
        write_transport.write(frames.encode(message))

    # pythonmonkey reports a promise rejected before its handler is attached (as every async
    # function body that throws at once is) to the loop's exception handler, which would print
    # it and stop pythonmonkey's loop helpers. Rejections of runs are handled by the harness.
    loop.set_exception_handler(_ignore_js_rejections)
    host = Host(None, send)
    host.runtime = make_runtime({"emit": host.emit, "finish": host.finish})
    install_turn_clock(clock, host)
    send({"t": "ready", "pid": os.getpid()})
    while True:
        message = await frames.read(reader)
        if message is None:
            return
        host.handle(message)


def main() -> None:
    clock_path, ses_path = Path(sys.argv[1]), Path(sys.argv[2])
    # Keep the protocol on a private descriptor; stray prints land on stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    clock = TurnClock(clock_path)
    make_runtime = boot(ses_path)
    status = 0
    try:
        asyncio.run(serve(clock, make_runtime, out_fd))
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stderr.flush()
    # pythonmonkey's teardown is slow and has crashed at exit; nothing is left to flush.
    os._exit(status)


if __name__ == "__main__":
    main()
