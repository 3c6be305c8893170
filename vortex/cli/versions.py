"""``vortex versions NAME`` and ``vortex rollback NAME [--to N]``."""

from __future__ import annotations

import asyncio

import click

from vortex.cli.errors import ExitCode, command_errors
from vortex.cli.options import connect, function_ref, json_option, url_option
from vortex.cli.output import Printer, Styled, relative_time, table
from vortex.client import Versions


def show_versions(versions: Versions, printer: Printer) -> None:
    rows = [
        [
            Styled(f"{'* ' if v.active else '  '}{v.version}", "green" if v.active else None),
            Styled(v.function_id, bold=v.active),
            Styled(relative_time(v.created_at)),
            Styled("active" if v.active else "", "green"),
        ]
        for v in versions.versions
    ]
    for line in table(["VERSION", "ID", "CREATED", ""], rows, printer):
        printer.out(line.rstrip())


@click.command()
@click.argument("name")
@url_option
@json_option
@command_errors
def versions(name: str, url: str, as_json: bool) -> int:
    """List the versions of the function NAME, newest first; * marks the active one."""
    printer = Printer.from_env()
    checked = function_ref(name)

    async def fetch() -> Versions:
        async with connect(url) as client:
            return await client.versions(checked)

    found = asyncio.run(fetch())
    if as_json:
        printer.json(found.raw)
    else:
        show_versions(found, printer)
    return ExitCode.OK


@click.command()
@click.argument("name")
@click.option(
    "--to", type=click.IntRange(min=1), help="The version to activate (default: the previous one)."
)
@url_option
@json_option
@command_errors
def rollback(name: str, to: int | None, url: str, as_json: bool) -> int:
    """Make another version of the function NAME the active one, at once."""
    printer = Printer.from_env()
    checked = function_ref(name)

    async def switch() -> Versions:
        async with connect(url) as client:
            return await client.rollback(checked, to)

    found = asyncio.run(switch())
    if as_json:
        printer.json(found.raw)
        return ExitCode.OK
    printer.ok(f"{found.name} now runs version {found.active}")
    printer.out(printer.style("Every node runs it within 1.5 s.", dim=True))
    return ExitCode.OK
