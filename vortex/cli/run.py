"""``vortex run``: run a function and watch its console output as it prints.

The log WebSocket is opened before the run starts and the run is named up front (a run id in a
header), so this run's lines print the moment the function logs them, and other runs' lines are
skipped. The execute response carries every line as well: whatever the stream missed (it opened
late, dropped, or is not available at all) is printed from it, so no line is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence

import click

from vortex.cli.errors import ExitCode, command_errors
from vortex.cli.options import connect, function_ref, json_option, url_option
from vortex.cli.output import Printer, format_ms, pretty_json
from vortex.client import (
    LogLine,
    LogStream,
    NotFound,
    RunError,
    RunResult,
    ServerError,
    UnexpectedResponse,
    VortexClient,
)

LIVE_GRACE_S = 1.0
"""How long to wait, after the response, for lines still in flight on the WebSocket."""

LineKey = tuple[str, str, str]


def match_lines(expected: Sequence[LogLine], seen: Counter[LineKey]) -> list[bool]:
    """Which of the response's lines were already shown (identical lines count separately)."""
    left = Counter(seen)
    flags = []
    for line in expected:
        found = left[line.key] > 0
        if found:
            left[line.key] -= 1
        flags.append(found)
    return flags


def in_flight(expected: Sequence[LogLine], seen: Counter[LineKey]) -> bool:
    """Whether lines after the last one shown may still arrive.

    The stream keeps the run's order, so a line missing *before* one that arrived never will;
    only a missing tail is worth waiting for.
    """
    flags = match_lines(expected, seen)
    last_shown = max((i for i, shown in enumerate(flags) if shown), default=-1)
    return not all(flags[last_shown + 1 :])


class LiveConsole:
    def __init__(self, printer: Printer, run_id: str) -> None:
        self.printer = printer
        self.run_id = run_id
        self.seen: Counter[LineKey] = Counter()
        self.shown = 0
        self.stream_closed = False
        self._changed = asyncio.Event()

    def show(self, line: LogLine) -> None:
        self.printer.out(self.printer.log_line(line.level, line.message))
        self.shown += 1

    async def follow(self, stream: AsyncIterable[LogLine]) -> None:
        try:
            async for line in stream:
                if line.run_id != self.run_id:
                    continue
                self.seen[line.key] += 1
                self.show(line)
                self._changed.set()
        except Exception:
            # A broken stream costs nothing: the response still has every line.
            pass
        finally:
            self.stream_closed = True
            self._changed.set()

    async def settle(self, expected: Sequence[LogLine], grace: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while not self.stream_closed and in_flight(expected, self.seen):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def finish(self, expected: Sequence[LogLine], *, streamed: bool) -> None:
        flags = match_lines(expected, self.seen)
        missing = [line for line, shown in zip(expected, flags, strict=True) if not shown]
        if missing and streamed and self.shown:
            count = f"{len(missing)} line{'s' if len(missing) != 1 else ''}"
            note = f"  ({count} that did not stream live, from the run's response:)"
            self.printer.out(self.printer.style(note, dim=True))
        for line in missing:
            self.show(line)
        if not self.shown:
            self.printer.out(self.printer.style("  (no output)", dim=True))


StartRun = Callable[[str], Awaitable[RunResult]]
"""Given the run's id, run it and answer with its result (``POST /execute`` by default)."""


async def run_live(
    client: VortexClient,
    checked_id: str,
    printer: Printer,
    start: StartRun | None = None,
    step: str | None = None,
) -> RunResult:
    run_id = str(uuid.uuid4())
    console = LiveConsole(printer, run_id)
    async with contextlib.AsyncExitStack() as stack:
        stream: LogStream | None
        try:
            stream = await stack.enter_async_context(client.tail(checked_id))
        except NotFound:
            # A refused handshake has no body to tell "no such function" from "this is not the
            # API" (the functions listener's port): the same question over HTTP tells them apart.
            await client.get_function(checked_id)
            raise
        except (UnexpectedResponse, ServerError) as exc:
            # Live output is a nicety (a proxy may not pass WebSockets); the run still works.
            stream = None
            printer.err(printer.err_style(f"(no live output: {exc.message})", dim=True))
        # The header waits for the server to take the request (the tail, or else the run): a
        # refused key or an unknown function is then the only thing printed.
        if stream is not None:
            show_header(printer, step or f"Executing function {checked_id}...")
        follower = asyncio.create_task(console.follow(stream)) if stream else None
        try:
            if start is None:
                result = await client.execute(checked_id, run_id=run_id)
            else:
                result = await start(run_id)
            if follower is not None:
                await console.settle(result.logs, LIVE_GRACE_S)
        finally:
            if follower is not None:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
    if stream is None:
        show_header(printer, step or f"Executing function {checked_id}...")
    console.finish(result.logs, streamed=stream is not None)
    return result


def show_header(printer: Printer, step: str) -> None:
    printer.step(step)
    printer.out("📋 Console Output:")


def show_result(result: RunResult, printer: Printer, function: str) -> None:
    if result.error is None or result.output is not None:
        printer.out("📦 Return Value:")
        for line in pretty_json(result.output, width=printer.width() - 2):
            printer.out(f"  {line}")
    if result.error is not None:
        show_run_error(result.error, printer)
    printer.out(f"⏱ Executed in {format_ms(result.execution_time_ms)}")
    if result.running:
        # Answered at once, as the listener answers; what the run does next is in its logs.
        printer.out(
            f"⏳ Still running: its waitUntil work goes on (vortex logs {function} --follow)"
        )


def show_run_error(error: RunError, printer: Printer) -> None:
    headline = f"{error.name}: {error.message}" if error.message else error.name
    if error.code != "function_error":
        headline += f" [{error.code}]"
    printer.fail(printer.style(headline, "red", bold=True))
    stack = error.stack
    # Stacks begin by repeating "Name: message"; it was just printed.
    if stack.startswith(f"{error.name}: {error.message}"):
        stack = stack[len(f"{error.name}: {error.message}") :]
    for line in stack.strip("\n").split("\n"):
        if line.strip():
            printer.out(printer.style(f"    {line.strip()}", dim=True))


@click.command()
@click.argument("id_", metavar="FUNCTION")
@url_option
@json_option
@command_errors
def run(id_: str, url: str, as_json: bool) -> int:
    """Run FUNCTION (an id or a name), showing its console output live, then its return value."""
    printer = Printer.from_env()
    checked = function_ref(id_)

    async def go() -> RunResult:
        async with connect(url) as client:
            if as_json:
                return await client.execute(checked, run_id=str(uuid.uuid4()))
            return await run_live(client, checked, printer)

    result = asyncio.run(go())
    if as_json:
        printer.json(result.raw)
    else:
        show_result(result, printer, checked)
    return ExitCode.FAILED if result.error is not None else ExitCode.OK


@click.command()
@click.argument("id_", metavar="FUNCTION")
@click.option(
    "--cron",
    metavar="EXPR",
    help="The event's cron (default: the function's schedule, or empty without one).",
)
@click.option(
    "--scheduled-time",
    "scheduled_time",
    type=click.IntRange(min=0),
    metavar="MS",
    help="The event's scheduledTime, in milliseconds since the epoch (default: now).",
)
@url_option
@json_option
@command_errors
def trigger(id_: str, cron: str | None, scheduled_time: int | None, url: str, as_json: bool) -> int:
    """Run FUNCTION's scheduled handler once, now, as a tick of its cron schedule would
    (a module function; its run is in the history as "scheduled")."""
    printer = Printer.from_env()
    checked = function_ref(id_)

    async def go() -> RunResult:
        async with connect(url) as client:

            async def start(run_id: str) -> RunResult:
                return await client.run_scheduled(
                    checked, cron=cron, scheduled_time_ms=scheduled_time, run_id=run_id
                )

            if as_json:
                return await start(str(uuid.uuid4()))
            step = f"Running the scheduled handler of {checked}..."
            return await run_live(client, checked, printer, start, step)

    result = asyncio.run(go())
    if as_json:
        printer.json(result.raw)
        return ExitCode.FAILED if result.error is not None else ExitCode.OK
    # A scheduled handler's return value is not kept: there is none to show.
    if result.error is not None:
        show_run_error(result.error, printer)
    printer.out(f"⏱ Executed in {format_ms(result.execution_time_ms)}")
    return ExitCode.FAILED if result.error is not None else ExitCode.OK
