"""``vortex d1``: SQL on the D1 databases of your namespace, as ``wrangler d1`` runs it.

``execute DATABASE --command SQL | --file FILE`` sends the SQL to the server (``POST
/d1/{database}/query``): a script runs as one batch, all of it or none. wrangler's ``--remote``
and ``--local`` are taken and mean nothing here: there is one copy, the server's. ``list``
names the databases a use has made.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from vortex.cli.errors import ExitCode, command_errors
from vortex.cli.options import connect, json_option, url_option
from vortex.cli.output import Printer, Styled, table
from vortex.d1.statements import split_statements


@click.group()
def d1() -> None:
    """SQL on the D1 databases of your namespace (docs/d1.md)."""


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "x'" + bytes(v for v in value if isinstance(v, int)).hex() + "'"
    return str(value)


def _show(printer: Printer, results: list[dict[str, Any]]) -> None:
    changes = 0
    for result in results:
        meta = result.get("meta") or {}
        changes += int(meta.get("changes") or 0)
        rows = result.get("results") or []
        if rows:
            headers = list(rows[0])
            cells = [[Styled(_cell(row.get(h))) for h in headers] for row in rows]
            for line in table(headers, cells, printer):
                printer.out(line.rstrip())
    statements = "statement" if len(results) == 1 else "statements"
    printer.ok(f"{len(results)} {statements} run, {changes} rows changed")


@d1.command()
@click.argument("database")
@click.option("--command", "command", metavar="SQL", help="The SQL to run (several: ; between).")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of SQL to run, as one batch (a dump, a migration).",
)
@click.option("--remote", is_flag=True, hidden=True, help="wrangler's: the server's copy.")
@click.option("--local", is_flag=True, hidden=True, help="wrangler's: the server's copy.")
@url_option
@json_option
@command_errors
def execute(
    database: str,
    command: str | None,
    file: Path | None,
    remote: bool,
    local: bool,
    url: str,
    as_json: bool,
) -> int:
    """Run SQL on DATABASE, a D1 database of your namespace (made by its first use)."""
    del remote, local
    if (command is None) == (file is None):
        raise click.UsageError("give the SQL with either --command or --file")
    sql = command if command is not None else Path(file or "").read_text(encoding="utf-8")
    if not split_statements(sql):
        raise click.UsageError("there is no SQL statement to run")
    printer = Printer.from_env()

    async def send() -> list[dict[str, Any]]:
        async with connect(url) as client:
            return await client.d1_query(database, sql)

    results = asyncio.run(send())
    if as_json:
        printer.json({"result": results, "success": True})
    else:
        _show(printer, results)
    return ExitCode.OK


@d1.command("list")
@url_option
@json_option
@command_errors
def list_databases(url: str, as_json: bool) -> int:
    """List the D1 databases of your namespace."""
    printer = Printer.from_env()

    async def fetch() -> list[str]:
        async with connect(url) as client:
            return await client.d1_databases()

    names = asyncio.run(fetch())
    if as_json:
        printer.json({"databases": [{"name": name} for name in names]})
    elif not names:
        printer.out("No D1 databases yet: one is made by its first use.")
    else:
        for name in names:
            printer.out(name)
    return ExitCode.OK
