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
@click.option(
    "--functions-port",
    type=int,
    default=None,
    help="Port of the functions listener; 0: none (VORTEX_FUNCTIONS_PORT, default 8787).",
)
@click.option(
    "--functions-host",
    default=None,
    help="Address of the functions listener (VORTEX_FUNCTIONS_HOST, default: --host).",
)
@click.option(
    "--functions-domain",
    default=None,
    help="Functions answer at {name}.DOMAIN (VORTEX_FUNCTIONS_DOMAIN, default localhost).",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    allow_unauthenticated: bool,
    dedicated_hosts: bool,
    functions_port: int | None,
    functions_host: str | None,
    functions_domain: str | None,
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
        functions_port=settings.functions_port if functions_port is None else functions_port,
        functions_host=functions_host or settings.functions_host,
        functions_domain=(functions_domain or settings.functions_domain).lower().strip("."),
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
    if settings.functions_port:
        click.echo(
            f"Functions answer on http://{{name}}.{settings.functions_domain}:"
            f"{settings.functions_port} (listening on {settings.functions_listen_host})"
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
