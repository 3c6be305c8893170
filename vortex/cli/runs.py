"""``vortex runs FUNCTION``: the invocation history, newest first."""

from __future__ import annotations

import asyncio

import click

from vortex.cli.errors import ExitCode, command_errors
from vortex.cli.options import connect, function_ref, json_option, url_option
from vortex.cli.output import Printer, Styled, format_ms, relative_time, table
from vortex.client import RunInfo


def _outcome(run: RunInfo) -> Styled:
    if run.ok:
        return Styled("✓ ok", "green")
    return Styled(f"✗ {run.error_code or 'error'}", "red")


@click.command()
@click.argument("function")
@click.option("--limit", "-n", type=click.IntRange(min=1), help="Show only the newest N runs.")
@url_option
@json_option
@command_errors
def runs(function: str, limit: int | None, url: str, as_json: bool) -> int:
    """Show the last runs of FUNCTION (an id or a name): when, how long, and how they ended."""
    printer = Printer.from_env()
    checked = function_ref(function)

    async def fetch() -> list[RunInfo]:
        async with connect(url) as client:
            return await client.runs(checked, limit)

    found = asyncio.run(fetch())
    if as_json:
        printer.json({"runs": [run.raw for run in found]})
        return ExitCode.OK
    if not found:
        printer.out(f"No runs of {checked} yet.")
        return ExitCode.OK
    rows = [
        [
            Styled(run.run_id),
            Styled(relative_time(run.at)),
            Styled("-" if run.version is None else str(run.version)),
            Styled(run.trigger),
            Styled(format_ms(run.execution_time_ms)),
            Styled("-" if run.cpu_time_ms is None else format_ms(run.cpu_time_ms)),
            _outcome(run),
        ]
        for run in found
    ]
    headers = ["RUN ID", "WHEN", "VERSION", "TRIGGER", "DURATION", "CPU", "OUTCOME"]
    for line in table(headers, rows, printer):
        printer.out(line.rstrip())
    return ExitCode.OK
