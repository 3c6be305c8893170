"""``vortex d1``: SQL on the D1 databases of your namespace, as ``wrangler d1`` runs it.

``execute DATABASE --command SQL | --file FILE`` sends the SQL to the server (``POST
/d1/{database}/query``): a script runs as one batch, all of it or none. wrangler's ``--remote``
and ``--local`` are taken and mean nothing here: there is one copy, the server's. ``list``
names the databases a use has made; ``migrations apply`` applies wrangler's migrations
(``vortex.cli.d1_migrations``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from vortex.cli.d1_migrations import (
    APPLIED,
    CREATE_TABLE,
    batch_of,
    migration_files,
    pending,
)
from vortex.cli.errors import CLIError, ExitCode, command_errors
from vortex.cli.options import connect, json_option, url_option
from vortex.cli.output import Printer, Styled, table
from vortex.cli.wrangler import find_config, load_config
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


@d1.group()
def migrations() -> None:
    """wrangler's D1 migrations: the .sql files of the migrations folder, each applied once."""


def _database_and_folder(database: str, folder: Path | None) -> tuple[str, Path]:
    """A binding of the wrangler configuration here names its database, as in wrangler; the
    folder is ``--dir``, else the database's ``migrations_dir``, else ``migrations``."""
    found = find_config(Path.cwd())
    config = load_config(found) if found is not None else None
    name = database
    if config is not None:
        by_binding = dict(config.d1_databases or ())
        name = by_binding.get(database, database)
    if folder is not None:
        return name, folder
    base = config.path.parent if config is not None else Path.cwd()
    return name, base / (
        config.d1_migrations.get(database, "migrations") if config else "migrations"
    )


@migrations.command("apply")
@click.argument("database")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The migrations folder (default: the configuration's migrations_dir, or migrations).",
)
@click.option("--remote", is_flag=True, hidden=True, help="wrangler's: the server's copy.")
@click.option("--local", is_flag=True, hidden=True, help="wrangler's: the server's copy.")
@url_option
@json_option
@command_errors
def apply(
    database: str, folder: Path | None, remote: bool, local: bool, url: str, as_json: bool
) -> int:
    """Apply the migrations DATABASE (a database_name, or a binding of wrangler's
    configuration here) has not had yet, in file name order, each as one batch."""
    del remote, local
    name, where = _database_and_folder(database, folder)
    if not where.is_dir():
        raise CLIError(f"no migrations folder at {where}", ExitCode.FAILED, "no_migrations")
    files = migration_files(where)
    printer = Printer.from_env()

    async def run() -> list[str]:
        done: list[str] = []
        async with connect(url) as client:
            await client.d1_query(name, CREATE_TABLE)
            rows = (await client.d1_query(name, APPLIED))[0].get("results") or []
            for path in pending(files, {str(row.get("name")) for row in rows}):
                await client.d1_query(name, batch_of(path))
                done.append(path.name)
                if not as_json:
                    printer.ok(f"{path.name} applied to {name}")
        return done

    applied = asyncio.run(run())
    if as_json:
        printer.json({"database": name, "applied": applied})
    elif not applied:
        printer.out(f"No migrations to apply to {name}.")
    return ExitCode.OK
