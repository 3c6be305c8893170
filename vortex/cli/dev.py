"""``vortex dev``: deploy, then redeploy on every save, tailing the logs: the loop of
``wrangler dev``, against a Vortex server.

Each save that changes what would be uploaded (the file, or the bundle of a project and its
packages) becomes a new version of the function's name, as ``vortex deploy --name`` makes one; its
URL on the functions listener stays the same. A syntax error is printed and the loop goes on with
the version that was running. Files are watched with watchfiles (inotify where there is one,
debounced: an editor's save of several files, or its write-then-rename, is one change).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
from watchfiles import Change, DefaultFilter, awatch

from vortex.cli.assetupload import upload_assets
from vortex.cli.errors import CLIError, ExitCode, command_errors, refused_key, report
from vortex.cli.functions import key_values, show_syntax_error
from vortex.cli.logs import tail_forever
from vortex.cli.options import connect, url_option
from vortex.cli.output import Printer
from vortex.cli.project import Options, Plan, beside_entry, plan_deploy
from vortex.cli.wrangler import DEV_VARS, read_dev_vars
from vortex.client import ClientError, CodeSyntaxError, Deployed
from vortex.storage.names import NAME

GENERIC_STEMS = frozenset({"index", "main", "worker", "src", "app", "mod"})
"""Entry names that say nothing of the function: its folder names it instead."""
IGNORED_DIRS = (".vortex", ".wrangler", "dist")
"""Besides watchfiles' defaults (node_modules, .git, ...): what builds and servers write."""
READY_AFTER_MS = 300
"""watchfiles yields once this long after it starts watching, changes or not: then it is
watching for sure, and the loop says so."""


def dev_name(entry: Path) -> str:
    """A name from the entry's file name (``api.ts`` → ``api``), or its folder's for an
    ``index.js``; a slug the server accepts."""
    stem = entry.stem.lower()
    if stem in GENERIC_STEMS:
        folder = entry.resolve().parent
        if folder.name.lower() in GENERIC_STEMS and folder.parent != folder:
            folder = folder.parent
        stem = folder.name.lower()
    slug = re.sub(r"[^a-z0-9-]+", "-", stem).strip("-")[:63] or "dev"
    return slug if NAME.fullmatch(slug) else f"dev-{slug}"[:63]


UploadKey = tuple[str, tuple[tuple[str, bytes], ...], tuple[tuple[str, str], ...]]
"""What an upload is made of: the code, its .wasm files, and each asset's path and hash."""


def _upload_key(plan: Plan) -> UploadKey:
    files = () if plan.assets is None else plan.assets.collected.files
    return plan.source, plan.wasm, tuple((f.path, f.digest) for f in files)


@dataclass
class DevLoop:
    url: str
    options: Options
    allow_hosts: tuple[str, ...]
    printer: Printer
    folder: Path
    deployed: UploadKey | None = None
    """What was uploaded last: the entry (or bundle), its .wasm files and assets."""
    attempted: UploadKey | None = None
    """What an upload was last tried with, whether the server took it or not."""
    warned: set[str] = field(default_factory=set)
    """Warnings already printed: the configuration's are the same at every save."""
    tail: asyncio.Task[None] | None = None
    header: str | None = None
    """Said once the server first takes an upload (or refuses its code): not before, so a
    refused key is the only line printed."""

    def plan(self) -> Plan:
        plan = plan_deploy(self.options, self.folder)
        name = plan.name or dev_name(plan.entry)
        return replace(plan, name=name)

    async def deploy(self, why: str, planned: Plan | None = None, *, retry: bool = True) -> None:
        """Plan and upload, if what would be uploaded changed; a failure is printed, not
        raised: the loop goes on. ``retry=False``: not again what the last try sent (the
        catch-up after the start would repeat the first deploy's error)."""
        printer = self.printer
        try:
            plan = await asyncio.to_thread(self.plan) if planned is None else planned
        except CLIError as exc:
            report(exc, printer, as_json=False)
            return
        key = _upload_key(plan)
        if key == self.deployed:
            return
        if not retry and key == self.attempted:
            return
        self.attempted = key
        if not plan.source.strip():
            printer.warn(f"{plan.shown} is empty: not deployed")
            return
        for warning in plan.warnings:
            if warning not in self.warned:
                self.warned.add(warning)
                printer.warn(warning)
        started = time.perf_counter()
        try:
            async with connect(self.url) as client:
                if plan.assets is not None:
                    await upload_assets(client, plan.assets)
                deployed = await client.deploy_function(
                    plan.source,
                    filename=plan.filename,
                    # Given, they are sent each time; left out, the name keeps its own.
                    env=plan.env if (self.options.env or plan.config is not None) else None,
                    secrets=self.options.secrets or None,
                    allow_hosts=self.allow_hosts or None,
                    name=plan.name,
                    schedule=plan.schedules or None,
                    beside=beside_entry(plan),
                    assets=None if plan.assets is None else plan.assets.body(),
                    r2_buckets=plan.r2_buckets,
                    services=plan.services,
                    d1_databases=plan.d1_databases,
                )
        except CodeSyntaxError as exc:
            self.say_header()
            shown = Path(plan.filename if plan.bundled_files else plan.shown)
            show_syntax_error(exc, shown, plan.source, printer)
            printer.step("Still serving the version before; fix it and save again")
            return
        except ClientError as exc:
            if refused_key(exc):
                raise  # no save can fix the key: watching on would only repeat this
            report(exc, printer, as_json=False)
            return
        self.say_header()
        elapsed = (time.perf_counter() - started) * 1000
        first = self.deployed is None
        self.deployed = key
        self.announce(deployed, why, elapsed, first=first)

    def say_header(self) -> None:
        if self.header is not None:
            self.printer.step(self.header)
            self.header = None

    def announce(self, deployed: Deployed, why: str, elapsed_ms: float, *, first: bool) -> None:
        printer = self.printer
        name = printer.style(f"{deployed.name} v{deployed.version}", bold=True)
        verb = "Deployed" if first else "Redeployed"
        printer.ok(f"{verb} {name} in {elapsed_ms:.0f} ms{why}")
        if first:
            if deployed.url is not None:
                printer.out(f"  URL: {printer.style(deployed.url, bold=True)}")
            printer.out(f"  Run it with: {printer.style(f'vortex run {deployed.name}', 'cyan')}")
        if self.tail is None and deployed.name is not None:
            self.tail = asyncio.create_task(self._tail(deployed.name))

    async def _tail(self, name: str) -> None:
        try:
            await tail_forever(self.url, name, self.printer, as_json=False)
        except (ClientError, CLIError) as exc:
            report(exc, self.printer, as_json=False)
            self.tail = None  # the next deploy starts it again

    async def run(self, first: Plan) -> None:
        where = f" (from {first.config.name})" if first.config is not None else ""
        self.header = f"Deploying {first.shown}{where} as {first.name} to {self.url}"
        await self.deploy("", first)
        watched = watched_folders(first)
        ready = False
        ignore = DefaultFilter(ignore_dirs=(*DefaultFilter.ignore_dirs, *IGNORED_DIRS))
        async for changes in awatch(
            *watched,
            watch_filter=ignore,
            rust_timeout=READY_AFTER_MS,
            yield_on_timeout=True,
        ):
            if not ready:
                ready = True
                # A save made before the watch began is not missed. "Watching" is said only
                # after this catch-up, so a save made after it is reported as its own change.
                await self.deploy(" (changed while starting)", retry=False)
                folders = ", ".join(map(str, watched))
                self.printer.step(f"Watching {folders} for changes (Ctrl-C to stop)")
            if changes:
                await self.deploy(f" ({changed_files(changes, self.folder)})")


def watched_folders(plan: Plan) -> list[Path]:
    """The project's folder (its configuration's), and the entry's when it is elsewhere."""
    entry_folder = plan.entry.resolve().parent
    if plan.config is None:
        return [entry_folder]
    project = plan.config.resolve().parent
    return [project] if entry_folder.is_relative_to(project) else [project, entry_folder]


def changed_files(changes: set[tuple[Change, str]], folder: Path) -> str:
    # A file added and deleted in one batch is a tool's temporary file (`sed -i`'s sedXXXXXX,
    # an editor's write-then-rename): not what the user changed.
    added = {path for change, path in changes if change == Change.added}
    deleted = {path for change, path in changes if change == Change.deleted}
    paths = sorted({Path(path) for _, path in changes if path not in added & deleted})
    here = folder.resolve()
    shown = [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in paths]
    if not shown:
        return "files changed"
    more = f" and {len(shown) - 2} more" if len(shown) > 2 else ""
    return ", ".join(shown[:2]) + more + " changed"


@click.command()
@click.argument("entry", type=click.Path(path_type=Path), required=False)
@click.option(
    "--name",
    metavar="NAME",
    help="The function's name (default: the wrangler "
    "configuration's, else the entry's file or folder name).",
)
@click.option("--env", "env", multiple=True, metavar="KEY=VAL", help="A variable (repeatable).")
@click.option(
    "--secret", "secrets", multiple=True, metavar="KEY=VAL", help="A secret (repeatable)."
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="HOST",
    help="A host fetch() may reach (repeatable).",
)
@url_option
@command_errors
def dev(
    entry: Path | None,
    name: str | None,
    env: tuple[str, ...],
    secrets: tuple[str, ...],
    allow_hosts: tuple[str, ...],
    url: str,
) -> int:
    """Deploy ENTRY, redeploy it on every save, and tail its logs, until Ctrl-C.

    \b
    As `vortex deploy` does, a project with a wrangler configuration is bundled with its
    npm packages, and with no ENTRY its "main" is the entry. Each save that changes what is
    uploaded deploys a new version of the function's name: its URL stays the same.
    """
    # As wrangler dev does, the project's .dev.vars are its secrets here; --secret wins.
    local = read_dev_vars(Path.cwd())
    options = Options(
        entry,
        name=name,
        env=key_values(env, "--env"),
        secrets={**local, **key_values(secrets, "--secret")},
    )
    loop = DevLoop(url, options, allow_hosts, Printer.from_env(), Path.cwd())
    first = loop.plan()  # a missing file or a bad configuration ends it before anything starts
    if local:
        loop.printer.step(f"Secrets from {DEV_VARS}: {', '.join(sorted(local))}")
    try:
        asyncio.run(loop.run(first))
    except KeyboardInterrupt:
        loop.printer.err()
    return ExitCode.OK
