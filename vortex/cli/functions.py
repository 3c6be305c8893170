"""``vortex deploy``, ``vortex list`` and ``vortex delete``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import click

from vortex.cli.assetupload import Uploaded, upload_assets
from vortex.cli.errors import CLIError, ExitCode, command_errors, exit_code_for
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
from vortex.cli.project import (
    AssetsPlan,
    Options,
    Plan,
    beside_entry,
    plan_deploy,
    read_source,
    upload_name,
)
from vortex.client import APIError, CodeSyntaxError, Deployed, FunctionInfo

__all__ = ["delete", "deploy", "list_functions", "read_source", "upload_name"]

MINIFY_HINT = (
    "the bundle may fit minified: vortex deploy --minify (or minify = true in wrangler.toml)"
)
CLEARABLE = {
    "env": "env",
    "secrets": "secrets",
    "allow-hosts": "allow_hosts",
    "schedule": "schedule",
    "routes": "routes",
    "r2-buckets": "r2_buckets",
    "d1-databases": "d1_databases",
    "services": "services",
}
"""``--clear`` choices, to the API's setting names."""
_SYNTAX_PREFIX = re.compile(r"^SyntaxError:\s*")
_LOCATION_SUFFIX = re.compile(r"\s*\([^()]*:\d+(?::\d+)?\)$")


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
@click.argument("file", type=click.Path(path_type=Path), required=False)
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
    "--cron",
    "schedules",
    multiple=True,
    metavar="CRON",
    help='Also run on this five-field cron schedule, in UTC, e.g. "*/5 * * * *" (repeatable: '
    "up to 5, each tick gets its own as event.cron).",
)
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="PATTERN",
    help="With --name: a custom-domain route to claim, e.g. api.example.com/v1/* "
    "(repeatable; docs/http-functions.md).",
)
@click.option(
    "--clear",
    "clear",
    multiple=True,
    type=click.Choice(CLEARABLE),
    help="Deploy --name without this setting of the active version (repeatable); "
    "settings not given are kept.",
)
@click.option(
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write what is uploaded (the bundle, for a project) into this folder.",
)
@click.option(
    "--minify",
    is_flag=True,
    help='Minify the bundle, as wrangler deploy --minify (or "minify" in its configuration).',
)
@click.option("--dry-run", is_flag=True, help="Bundle and check, but upload nothing.")
@url_option
@json_option
@command_errors
def deploy(
    file: Path | None,
    env: tuple[str, ...],
    secrets: tuple[str, ...],
    allow_hosts: tuple[str, ...],
    name: str | None,
    schedules: tuple[str, ...],
    routes: tuple[str, ...],
    clear: tuple[str, ...],
    outdir: Path | None,
    minify: bool,
    dry_run: bool,
    url: str,
    as_json: bool,
) -> int:
    """Deploy FILE as a new function (or a new version of --name) and print its id.

    A new version keeps the active version's env, secrets, allowed hosts, schedule and routes
    unless given here, in the wrangler configuration (or cleared with --clear).

    \b
    A module that imports npm packages or other files is bundled first, as wrangler does,
    with the packages of the project's node_modules. With no FILE, the entry ("main"), name,
    vars, schedule (triggers.crons) and routes (route, routes) come from wrangler.json,
    wrangler.jsonc or wrangler.toml in the current folder; options given here win over it.
    """
    printer = Printer.from_env()
    options = Options(
        file,
        name=name,
        env=key_values(env, "--env"),
        secrets=key_values(secrets, "--secret"),
        schedules=schedules,
        routes=routes,
        minify=minify,
    )
    plan = plan_deploy(options, Path.cwd())
    if plan.routes and plan.name is None:
        # Said before uploading; the server's "deploy with a name" names no option.
        given = (
            "--route needs"
            if routes
            else f"the routes of {plan.config.name if plan.config else ''} need"
        )
        raise CLIError(
            f"{given} a name: routes are claimed by a named function; give --name NAME",
            ExitCode.USAGE,
            "invalid_request",
        )
    if not plan.source.strip():
        raise CLIError(
            f"{plan.shown or plan.entry} is empty: there is no code to deploy",
            ExitCode.FAILED,
            "empty_file",
        )
    # Left out (None), a setting is kept from the active version; given, it replaces it. A
    # wrangler configuration gives the variables (its "vars", or none).
    variables = plan.env if (env or plan.config is not None) else None
    secret_values = options.secrets if secrets else None
    cleared = [CLEARABLE[c] for c in clear]
    for warning in plan.warnings:
        printer.err(f"{printer.err_style('!', 'yellow', bold=True)} {warning}")
    if not as_json:
        show_bundle(plan, printer)
        if plan.assets_only:
            printer.step(
                f"No main in {plan.config.name if plan.config else 'the configuration'}: "
                "deploying the assets with a Worker of one line that serves them "
                "(env.ASSETS.fetch(request))"
            )
        if dry_run and plan.assets is not None:
            collected = plan.assets.collected
            printer.step(
                f"Would upload up to {len(collected.files)} assets "
                f"({bytes_phrase(collected.size)}) from {plan.assets.directory}"
            )
        if dry_run:
            printer.step(upload_step(plan, dry_run=True))
    if outdir is not None:
        written = write_upload(plan, outdir)
        if not as_json:
            printer.step(f"Wrote {written}")
    if dry_run:
        if as_json:
            printer.json(
                {
                    "dry_run": True,
                    "filename": plan.filename,
                    "size": len(plan.source.encode("utf-8")),
                }
            )
        else:
            printer.ok("Dry run: nothing uploaded")
        return ExitCode.OK

    uploaded: Uploaded | None = None

    async def upload() -> Deployed:
        nonlocal uploaded
        spinner = Spinner("Uploading...", printer, enabled=printer.interactive and not as_json)
        async with connect(url) as client, spinner:
            if plan.assets is not None:
                uploaded = await upload_assets(client, plan.assets)
            return await client.deploy_function(
                plan.source,
                filename=plan.filename,
                env=variables,
                secrets=secret_values,
                allow_hosts=allow_hosts or None,
                name=plan.name,
                schedule=plan.schedules or None,
                routes=plan.routes,
                clear=cleared,
                beside=beside_entry(plan),
                assets=None if plan.assets is None else plan.assets.body(),
                r2_buckets=plan.r2_buckets,
                services=plan.services,
                d1_databases=plan.d1_databases,
            )

    # "Deploying ..." is said once the server has taken the upload (or refused the code
    # itself): a refused key or an unreachable server is then the only line printed.
    try:
        deployed = asyncio.run(upload())
    except CodeSyntaxError as exc:
        if as_json:
            raise
        printer.step(upload_step(plan))
        shown = Path(plan.filename if plan.bundled_files else plan.shown)
        show_syntax_error(exc, shown, plan.source, printer)
        return ExitCode.FAILED
    except APIError as exc:
        if exc.code == "payload_too_large" and plan.bundled_files and not plan.minified:
            # A bundle of packages is mostly names and blanks: minified, chanfana's template
            # went from 1.07 MB to 0.63 MB.
            raise CLIError(f"{exc.message}; {MINIFY_HINT}", exit_code_for(exc), exc.code) from None
        raise
    new_id = deployed.function_id
    if as_json:
        answer: dict[str, object] = {"function_id": new_id}
        if deployed.name is not None:
            answer.update(
                name=deployed.name,
                version=deployed.version,
                kept=list(deployed.kept),
                routes=list(deployed.routes),
            )
        if deployed.url is not None:
            answer["url"] = deployed.url
        if plan.assets is not None and uploaded is not None:
            answer["assets"] = {
                "files": len(plan.assets.collected.files),
                "uploaded": list(uploaded.paths),
            }
        printer.json(answer)
        return ExitCode.OK
    if plan.assets is not None and uploaded is not None:
        show_assets(plan.assets, uploaded, printer)
    printer.step(upload_step(plan))
    printer.ok("Function deployed successfully!")
    if deployed.name is not None:
        printer.out(f"  Name: {printer.style(deployed.name, bold=True)}")
        printer.out(f"  Version: {deployed.version} (active)")
        if deployed.kept:
            kept = ", ".join(k.replace("_", " ") for k in deployed.kept)
            printer.out(f"  Kept from the previous version: {kept} (--clear to drop)")
    if plan.schedules:
        label = "Schedule" if len(plan.schedules) == 1 else "Schedules"
        printer.out(f"  {label}: {', '.join(plan.schedules)} (UTC)")
    if deployed.routes:
        printer.out(f"  Routes: {', '.join(deployed.routes)}")
    if plan.services:
        bound = ", ".join(
            f"env.{s['binding']} → {s['service']}"
            + (f" ({s['entrypoint']})" if "entrypoint" in s else "")
            for s in plan.services
        )
        printer.out(f"  Services: {bound}")
    if plan.d1_databases:
        bound = ", ".join(f"env.{d['binding']} → {d['database_name']}" for d in plan.d1_databases)
        printer.out(f"  D1 databases: {bound}")
    printer.out(f"  Function ID: {printer.style(new_id, bold=True)}")
    # Not for the README's unnamed example, whose output shape is kept exactly.
    if deployed.url is not None and (deployed.name is not None or plan.config is not None):
        printer.out(f"  URL: {printer.style(deployed.url, bold=True)}")
    printer.out("  Run your function with:")
    printer.out(f"  {printer.style(f'vortex run {deployed.name or new_id}', 'cyan')}")
    return ExitCode.OK


def write_upload(plan: Plan, outdir: Path) -> Path:
    target = outdir / plan.filename
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        target.write_text(plan.source, encoding="utf-8")
        for name, data in plan.wasm:
            (outdir / name).write_bytes(data)
    except OSError as exc:
        message = f"cannot write {target}: {exc.strerror or exc}"
        raise CLIError(message, ExitCode.FAILED, "write_failed") from None
    return target


def show_bundle(plan: Plan, printer: Printer) -> None:
    """What bundling made (done here, before anything is sent)."""
    if plan.bundled_files:
        where = f" (from {plan.config.name})" if plan.config is not None else ""
        packages = f", packages: {', '.join(plan.packages)}" if plan.packages else ""
        printer.step(f"Bundled {plan.shown}{where}: {plan.bundled_files} files{packages}")


MAX_LISTED = 20
"""Uploaded assets named one a line; past this many, counted."""


def show_assets(assets: AssetsPlan, uploaded: Uploaded, printer: Printer) -> None:
    total = len(assets.collected.files)
    sent = len(uploaded.paths)
    kept = f"; {total - sent} unchanged, on the server already" if sent < total else ""
    printer.step(
        f"Uploaded {sent} of {total} assets from {assets.directory} "
        f"({bytes_phrase(uploaded.size)}){kept}"
    )
    if sent <= MAX_LISTED:
        for path in uploaded.paths:
            printer.out(f"  + {path}")


def upload_step(plan: Plan, *, dry_run: bool = False) -> str:
    size = bytes_phrase(len(plan.source.encode("utf-8")))
    # A dry run uploads nothing: "Deploying" would say otherwise.
    verb, dots = ("Would deploy", "") if dry_run else ("Deploying", "...")
    if not plan.bundled_files:
        where = f" (from {plan.config.name})" if plan.config is not None else ""
        return f"{verb} {plan.shown}{where} ({size}){dots}"
    wasm = ", ".join(f"{name} ({bytes_phrase(len(data))})" for name, data in plan.wasm)
    beside = f", with {wasm}" if wasm else ""
    return f"{verb} the bundle, {plan.filename} ({size}){beside}{dots}"


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
