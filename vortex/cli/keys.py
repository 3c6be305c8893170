"""``vortex keys``: the operator's commands for API keys.

Unlike the other commands these do not talk to a server: they work on the key store itself, the
data directory (``VORTEX_DATA_DIR`` or ``--data-dir``) or Redis (``REDIS_ADDR``,
``VORTEX_REDIS_URL``), exactly as ``vortex serve`` would find it. Whoever can run them can read
that store, which is what makes them an operator's commands and not an API of their own.
Running servers see the change within ``VORTEX_AUTH_CACHE_MS`` (2 s by default), without a
restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from vortex.auth import ApiKeys
from vortex.auth.errors import ApiKeyNotFound, AuthUnavailable, InvalidNamespace
from vortex.backends import api_keys_backend, make_api_keys
from vortex.cli.errors import ExitCode
from vortex.config import ConfigError, Settings

T = TypeVar("T")


def _settings(data_dir: Path | None) -> Settings:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return replace(settings, data_dir=data_dir) if data_dir is not None else settings


def _where(data_dir: Path | None) -> str:
    """The key store, as a person would look for it: a key made in a folder the server does
    not read is a key the server never checks."""
    settings = _settings(data_dir)
    if api_keys_backend(settings) == "redis" and settings.redis_url is not None:
        return "Redis"
    return str(settings.data_dir.absolute())


def _run(data_dir: Path | None, as_json: bool, action: Callable[[ApiKeys], Awaitable[T]]) -> T:
    async def main() -> T:
        keys = make_api_keys(_settings(data_dir))
        try:
            return await action(keys)
        finally:
            await keys.close()

    try:
        return asyncio.run(main())
    except (ApiKeyNotFound, InvalidNamespace, AuthUnavailable) as exc:
        if as_json:
            click.echo(json.dumps(exc.to_json()))
        else:
            click.echo(f"✗ {exc.message}", err=True)
        code = ExitCode.UNREACHABLE if isinstance(exc, AuthUnavailable) else ExitCode.FAILED
        raise SystemExit(int(code)) from None


def _store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text."
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The server's data directory (VORTEX_DATA_DIR); ignored when Redis is configured.",
    )(command)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (run where the server's data or Redis is).

    \b
    With no key, `vortex serve` is single-tenant and listens on loopback only.
    With keys, every API request needs `Authorization: Bearer <key>`
    (the CLI sends VORTEX_API_KEY).
    """


@keys.command()
@click.option(
    "--namespace", "-n", default=None, help="The namespace whose functions the key reaches."
)
@click.option("--metrics", "for_metrics", is_flag=True, help="A key for /metrics only.")
@click.option("--note", default="", help="A reminder of who or what uses the key.")
@_store_options
def create(
    namespace: str | None, for_metrics: bool, note: str, data_dir: Path | None, as_json: bool
) -> None:
    """Create a key; it is printed once, on stdout, and never again."""
    if for_metrics == (namespace is not None):
        raise click.UsageError("give either --namespace NAME or --metrics")
    key, token = _run(
        data_dir,
        as_json,
        lambda store: store.create(
            namespace, scope="metrics" if for_metrics else "functions", note=note
        ),
    )
    if as_json:
        click.echo(json.dumps({**key.public_json(), "key": token}))
        return
    what = "/metrics" if for_metrics else f"namespace {key.namespace}"
    click.echo(f"✓ Created API key {key.id} for {what} (in {_where(data_dir)})", err=True)
    click.echo(token)
    click.echo(
        "  Shown only now: keep it safe (the store holds only its SHA-256). "
        "Use it as VORTEX_API_KEY or Authorization: Bearer <key>.",
        err=True,
    )


@keys.command(name="list")
@_store_options
def list_keys(data_dir: Path | None, as_json: bool) -> None:
    """List keys (never their secret part)."""
    found = _run(data_dir, as_json, lambda store: store.list())
    if as_json:
        click.echo(json.dumps({"keys": [key.public_json() for key in found]}))
        return
    if not found:
        click.echo(
            f"No API keys in {_where(data_dir)}: a server of that data is single-tenant and "
            "serves on loopback only."
        )
        return
    rows = [("ID", "NAMESPACE", "SCOPE", "CREATED", "NOTE")]
    rows += [(k.id, k.namespace or "-", k.scope, k.created_at, k.note) for k in found]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        click.echo("  ".join([*cells, row[4]]).rstrip())


@keys.command()
@click.argument("key_id")
@_store_options
def revoke(key_id: str, data_dir: Path | None, as_json: bool) -> None:
    """Revoke a key by its id (from `vortex keys list`)."""
    key = _run(data_dir, as_json, lambda store: store.revoke(key_id))
    if as_json:
        click.echo(json.dumps({"revoked": key.public_json()}))
        return
    what = "/metrics" if key.scope == "metrics" else f"namespace {key.namespace}"
    click.echo(f"✓ Revoked API key {key.id} ({what}); servers refuse it within 2 s")
