"""``vortex serve``: run the API, the WebSocket tail and the dashboard in one process."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace

import click
from aiohttp import web

from vortex.auth.exposure import ExposureRefused, startup_notice
from vortex.backends import make_api_keys
from vortex.config import ConfigError, Settings


@click.command()
@click.option("--host", default=None, help="Address to listen on (VORTEX_HOST, default 127.0.0.1).")
@click.option(
    "--port", type=int, default=None, help="Port to listen on (VORTEX_PORT, default 8080)."
)
@click.option(
    "--workers", type=int, default=None, help="Host processes in the pool (VORTEX_WORKERS)."
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    default=False,
    help="Serve with no API keys on a non-loopback address (VORTEX_ALLOW_UNAUTHENTICATED).",
)
@click.option(
    "--dedicated-hosts",
    is_flag=True,
    default=False,
    help="Never let two namespaces share a host process (VORTEX_DEDICATED_HOSTS).",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    allow_unauthenticated: bool,
    dedicated_hosts: bool,
) -> None:
    """Serve the Vortex API and dashboard."""
    from vortex.http.app import create_app

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    settings = replace(
        settings,
        host=host or settings.host,
        port=settings.port if port is None else port,
        workers=workers or settings.workers,
        allow_unauthenticated=allow_unauthenticated or settings.allow_unauthenticated,
        dedicated_hosts=dedicated_hosts or settings.dedicated_hosts,
    )
    try:
        access = asyncio.run(_access_notice(settings))
    except ExposureRefused as exc:
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(
        level=os.environ.get("VORTEX_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    click.echo(
        f"Vortex serving on http://{settings.host}:{settings.port} "
        f"({settings.workers} hosts, data in {settings.data_dir})"
    )
    click.echo(access)
    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            print=None,
            handle_signals=True,
            # aiohttp's default of 128 pending connections dropped the SYNs of a burst of
            # thousands of clients, which then waited out TCP's retry backoff (1, 3, 7... s).
            backlog=LISTEN_BACKLOG,
        )
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None


LISTEN_BACKLOG = 4096
"""Connections the kernel queues before the server accepts them (capped by net.core.somaxconn)."""


async def _access_notice(settings: Settings) -> str:
    keys = make_api_keys(settings)
    try:
        return await startup_notice(settings, keys)
    finally:
        await keys.close()
