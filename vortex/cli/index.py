"""``vortex index rebuild``: the operator's command that makes the function index again from
the records (``vortex.storage.index``).

Like ``vortex keys`` it works on the store itself (the data directory, or the S3 bucket and,
with Redis configured, the index in Redis), as
``vortex serve`` would find it, not through a server. A server also rebuilds a missing index
when it starts; this command repairs one that is there but wrong (entries a failure left behind,
or missing ones), and can run while servers serve.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, replace
from pathlib import Path

import click

from vortex.backends import make_store
from vortex.cli.errors import ExitCode
from vortex.config import ConfigError, Settings
from vortex.errors import StorageUnavailable
from vortex.storage.index import FunctionIndex, Rebuilt


@click.group()
def index() -> None:
    """The function index that listings and cron read (run where the server's data is)."""


@index.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The server's data directory (VORTEX_DATA_DIR); ignored when S3 is configured.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def rebuild(data_dir: Path | None, as_json: bool) -> None:
    """Make the index again from the function records (reads every record once)."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if data_dir is not None:
        settings = replace(settings, data_dir=data_dir)
    if settings.store != "s3" and not settings.data_dir.is_dir():
        # Run elsewhere than the server's folder, it made an empty store there (and a secrets
        # key) and reported 0 functions rebuilt: a success that repaired nothing.
        where = settings.data_dir.absolute()
        message = (
            f"no data directory at {where}: run this where `vortex serve` keeps its data, "
            "or give --data-dir (VORTEX_DATA_DIR)"
        )
        if as_json:
            click.echo(json.dumps({"error": {"code": "data_dir_not_found", "message": message}}))
        else:
            click.echo(f"✗ {message}", err=True)
        raise SystemExit(int(ExitCode.USAGE))

    async def main() -> Rebuilt:
        store = make_store(settings)
        try:
            return await FunctionIndex(store.index, store).rebuild()
        finally:
            await store.close()

    try:
        done = asyncio.run(main())
    except StorageUnavailable as exc:
        if as_json:
            click.echo(json.dumps(exc.to_json()))
        else:
            click.echo(f"✗ {exc.message}", err=True)
        raise SystemExit(int(ExitCode.UNREACHABLE)) from None
    if as_json:
        click.echo(json.dumps(asdict(done)))
        return
    click.echo(
        f"✓ Rebuilt the index: {done.functions} functions, {done.schedules} schedules, "
        f"{done.routes} routes ({done.added} keys added, {done.removed} removed)"
    )
