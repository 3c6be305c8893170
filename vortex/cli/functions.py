"""``vortex deploy``, ``vortex list`` and ``vortex delete``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import click

from vortex.cli.errors import CLIError, ExitCode, command_errors
from vortex.cli.options import connect, function_ref, json_option, url_option
from vortex.cli.output import (
    Printer,
    Spinner,
    Styled,
    bytes_phrase,
    code_frame,
    format_ms,
    relative_time,
    short_size,
    table,
)
from vortex.client import CodeSyntaxError, Deployed, FunctionInfo

_SYNTAX_PREFIX = re.compile(r"^SyntaxError:\s*")
_LOCATION_SUFFIX = re.compile(r"\s*\([^()]*:\d+:\d+\)$")


def upload_name(path: Path) -> str:
    """The file's name as the server accepts it: word characters, dots and dashes."""
    name = re.sub(r"[^\w.-]", "_", path.name)[:100]
    if not name:
        return "index.js"
    return name if re.match(r"\w", name) else "_" + name[:99]


def read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file", ExitCode.USAGE, "file_not_found") from None
    except IsADirectoryError:
        raise CLIError(f"{path} is a directory", ExitCode.USAGE, "file_not_found") from None
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror or exc}"
        raise CLIError(message, ExitCode.FAILED, "read_failed") from None
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise CLIError(f"{path} is not UTF-8 text", ExitCode.FAILED, "not_text") from None


def key_values(values: tuple[str, ...], option: str) -> dict[str, str]:
    """``KEY=VAL`` options as a mapping; the server checks the names."""
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(
                f"{option} takes KEY=VALUE, got {item!r}", ExitCode.USAGE, "invalid_option"
            )
        pairs[key] = value
    return pairs


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--env", "env", multiple=True, metavar="KEY=VAL", help="A variable (repeatable).")
@click.option(
    "--secret", "secrets", multiple=True, metavar="KEY=VAL", help="A secret (repeatable)."
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="HOST",
    help="A host fetch() may reach, e.g. api.example.com or *.example.org (repeatable).",
)
@click.option(
    "--name",
    metavar="NAME",
    help="Deploy as the next version of the function NAME and make it active.",
)
@click.option(
    "--schedule",
    metavar="CRON",
    help='Also run on this five-field cron schedule, in UTC, e.g. "*/5 * * * *".',
)
@url_option
@json_option
@command_errors
def deploy(
    file: Path,
    env: tuple[str, ...],
    secrets: tuple[str, ...],
    allow_hosts: tuple[str, ...],
    name: str | None,
    schedule: str | None,
    url: str,
    as_json: bool,
) -> int:
    """Deploy FILE as a new function (or a new version of --name) and print its id."""
    printer = Printer.from_env()
    variables = key_values(env, "--env")
    secret_values = key_values(secrets, "--secret")
    source = read_source(file)
    if not as_json:
        printer.step(f"Deploying {file} ({bytes_phrase(len(source.encode()))})...")

    async def upload() -> Deployed:
        spinner = Spinner("Uploading...", printer, enabled=printer.interactive and not as_json)
        async with connect(url) as client, spinner:
            return await client.deploy_function(
                source,
                filename=upload_name(file),
                env=variables,
                secrets=secret_values,
                allow_hosts=allow_hosts,
                name=name,
                schedule=schedule,
            )

    try:
        deployed = asyncio.run(upload())
    except CodeSyntaxError as exc:
        if as_json:
            raise
        show_syntax_error(exc, file, source, printer)
        return ExitCode.FAILED
    new_id = deployed.function_id
    if as_json:
        answer: dict[str, object] = {"function_id": new_id}
        if deployed.name is not None:
            answer.update(name=deployed.name, version=deployed.version)
        printer.json(answer)
        return ExitCode.OK
    printer.ok("Function deployed successfully!")
    if deployed.name is not None:
        printer.out(f"  Name: {printer.style(deployed.name, bold=True)}")
        printer.out(f"  Version: {deployed.version} (active)")
    if schedule:
        printer.out(f"  Schedule: {schedule} (UTC)")
    printer.out(f"  Function ID: {printer.style(new_id, bold=True)}")
    printer.out("  Run your function with:")
    printer.out(f"  {printer.style(f'vortex run {deployed.name or new_id}', 'cyan')}")
    return ExitCode.OK


def show_syntax_error(exc: CodeSyntaxError, file: Path, source: str, printer: Printer) -> None:
    # The server names the spot as "(file:line:column)" in its message; we show it our way.
    reason = _LOCATION_SUFFIX.sub("", _SYNTAX_PREFIX.sub("", exc.message)) or exc.message
    where = str(file)
    if exc.line is not None:
        where += f":{exc.line}"
        if exc.column is not None:
            where += f":{exc.column}"
    printer.error(f"syntax error in {where}: {reason}")
    if exc.line is not None:
        for line in code_frame(source, exc.line, exc.column, printer):
            printer.err(line)


@click.command(name="list")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Show only the newest N functions (all by default, fetched 1,000 at a time).",
)
@url_option
@json_option
@command_errors
def list_functions(limit: int | None, url: str, as_json: bool) -> int:
    """List deployed functions, newest first (a name by its first version)."""
    printer = Printer.from_env()

    async def fetch() -> list[FunctionInfo]:
        async with connect(url) as client:
            return await client.list_functions(limit)

    functions = asyncio.run(fetch())
    if as_json:
        printer.json({"functions": [f.raw for f in functions]})
        return ExitCode.OK
    if not functions:
        printer.out("No functions deployed yet.")
        printer.out(f"Create one with: {printer.style('vortex init', 'cyan')}")
        return ExitCode.OK
    rows = [
        [
            Styled(f.id, bold=f.name is None),
            name_cell(f),
            Styled(f.filename),
            Styled(short_size(f.size)),
            Styled(relative_time(f.created_at)),
            last_run_cell(f),
        ]
        for f in functions
    ]
    for line in table(["ID", "NAME", "FILENAME", "SIZE", "CREATED", "LAST RUN"], rows, printer):
        printer.out(line)
    return ExitCode.OK


def name_cell(info: FunctionInfo) -> Styled:
    """``hello:v3`` for the active version of a named function, ``-`` for an unnamed one."""
    if info.name is None:
        return Styled("-", dim=True)
    return Styled(f"{info.name}:v{info.version}", bold=True)


def last_run_cell(info: FunctionInfo) -> Styled:
    run = info.last_run
    if run is None:
        return Styled("never", dim=True)
    when = relative_time(run.at)
    if run.ok:
        return Styled(f"✓ {format_ms(run.execution_time_ms)}, {when}", "green")
    return Styled(f"✗ {run.error_code or 'failed'}, {when}", "red")


@click.command()
@click.argument("id_", metavar="FUNCTION")
@url_option
@json_option
@command_errors
def delete(id_: str, url: str, as_json: bool) -> int:
    """Delete FUNCTION (an id, or a name: with every version), its KV and history."""
    printer = Printer.from_env()
    checked = function_ref(id_)

    async def remove() -> dict[str, object]:
        async with connect(url) as client:
            return await client.delete_function(checked)

    answer = asyncio.run(remove())
    if as_json:
        printer.json(answer)
        return ExitCode.OK
    versions = answer.get("function_ids")
    if isinstance(versions, list):
        count = f"{len(versions)} version{'s' if len(versions) != 1 else ''}"
        printer.ok(f"Deleted function {checked} ({count})")
    else:
        printer.ok(f"Deleted function {checked}")
    return ExitCode.OK
