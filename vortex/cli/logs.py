"""``vortex logs``: the last run of a function, or (``--follow``) every log line live."""

from __future__ import annotations

import asyncio

import click

from vortex.cli.errors import CLIError, ExitCode, command_errors
from vortex.cli.options import connect, function_ref, json_option, url_option
from vortex.cli.output import Printer, clock_time, format_ms, relative_time
from vortex.cli.run import show_run_error
from vortex.client import (
    FunctionInfo,
    LogLine,
    NotFound,
    RunError,
    RunInfo,
    ServerUnreachable,
)

RECONNECT_MAX_S = 5.0

_CLOSE_REASONS = {
    1001: "the server is going away",
    1011: "the server hit an error",
    4008: "the server dropped this tail for reading too slowly",
    4401: "the API key was revoked",
}


def closed_because(code: int | None) -> str:
    return _CLOSE_REASONS.get(code or 0, f"the log stream closed (code {code})")


@click.command()
@click.argument("id_", metavar="FUNCTION")
@click.option(
    "--follow", "-f", is_flag=True, help="Stream every run's log lines live, until Ctrl-C."
)
@url_option
@json_option
@command_errors
def logs(id_: str, follow: bool, url: str, as_json: bool) -> int:
    """Show the last run of FUNCTION (an id or a name), or tail its logs live with --follow."""
    printer = Printer.from_env()
    checked = function_ref(id_)
    if not follow:
        return last_run(url, checked, printer, as_json=as_json)
    try:
        asyncio.run(tail_forever(url, checked, printer, as_json=as_json))
    except KeyboardInterrupt:
        # Ctrl-C is how a tail is meant to end, so it is a success.
        printer.err()
    return ExitCode.OK


def last_run(url: str, checked: str, printer: Printer, *, as_json: bool) -> int:
    async def fetch() -> tuple[FunctionInfo, RunInfo | None]:
        async with connect(url) as client:
            info = await client.get_function(checked)
            if as_json or info.last_run is None:
                return info, None
            # The history keeps the run's first lines (docs/versions.md).
            return info, await client.get_run(checked, info.last_run.run_id)

    info, kept = asyncio.run(fetch())
    if as_json:
        answer: dict[str, object] = {"function_id": info.id}
        if info.name is not None:
            answer.update(name=info.name, version=info.version)
        printer.json({**answer, "last_run": info.raw.get("last_run")})
        return ExitCode.OK
    run = info.last_run
    # A named function is known by its name (and the version that is active), not its id.
    shown = info.id if info.name is None else f"{info.name} v{info.version}"
    name = f"{printer.style(shown, bold=True)} ({info.filename})"
    if run is None:
        printer.out(f"No runs of {name} on this server yet.")
    else:
        printer.out(f"Last run of {name}:")
        when = f"{relative_time(run.at)} (at {clock_time(run.at)})"
        if run.ok:
            mark = printer.style("✓", "green", bold=True)
            printer.out(f"  {mark} succeeded {when} in {format_ms(run.execution_time_ms)}")
        else:
            mark = printer.style("✗", "red", bold=True)
            printer.out(f"  {mark} failed {when}: {run.error_code or 'error'}")
        printer.out(f"  Run ID: {run.run_id}")
        for line in kept.logs if kept is not None else ():
            printer.out(printer.log_line(line.level, line.message))
        if kept is not None and kept.raw.get("logs_truncated"):
            printer.out(
                printer.style("  (more lines were printed than the history keeps)", dim=True)
            )
        error = kept.raw.get("error") if kept is not None else None
        if isinstance(error, dict):
            # The code alone ("function_error") does not say what threw, nor where.
            show_run_error(RunError.from_json(error), printer)
    printer.out(
        printer.style("Earlier runs: ", dim=True)
        + printer.style(f"vortex runs {checked}", "cyan")
        + printer.style("; lines as they happen: ", dim=True)
        + printer.style(f"vortex logs {checked} --follow", "cyan")
    )
    return ExitCode.OK


async def tail_forever(url: str, checked: str, printer: Printer, *, as_json: bool) -> None:
    """Print lines until Ctrl-C, reconnecting when the server restarts or drops us."""
    connected_before = False
    announced_loss = False
    delay = 0.5
    async with connect(url) as client:
        while True:
            try:
                async with client.tail(checked) as stream:
                    if announced_loss:
                        printer.err(printer.err_style("→ reconnected", "cyan"))
                    elif not connected_before:
                        printer.err(
                            f"{printer.err_style('→', 'cyan', bold=True)} Tailing logs of "
                            f"function {checked} (Ctrl-C to stop)..."
                        )
                    connected_before = True
                    announced_loss = False
                    delay = 0.5
                    async for line in stream:
                        show_line(line, printer, as_json=as_json)
                    lost = closed_because(stream.close_code)
            except NotFound:
                if not connected_before:
                    raise
                raise CLIError(
                    f"function {checked} was deleted", ExitCode.NOT_FOUND, "function_not_found"
                ) from None
            except ServerUnreachable as exc:
                if not connected_before:
                    raise
                lost = exc.message
            if not announced_loss:
                printer.err(printer.err_style(f"… {lost}; reconnecting until Ctrl-C", dim=True))
                announced_loss = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)


def show_line(line: LogLine, printer: Printer, *, as_json: bool) -> None:
    if as_json:
        printer.json_line(
            {
                "level": line.level,
                "message": line.message,
                "timestamp": line.timestamp,
                "run_id": line.run_id,
            }
        )
        return
    plain = f"{clock_time(line.timestamp)} {(line.run_id or '-')[:8]:8} "
    lead = printer.style(plain, dim=True)
    printer.out(printer.log_line(line.level, line.message, lead=lead, indent=" " * len(plain)))
