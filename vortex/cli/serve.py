"""``vortex serve``: run the API, the WebSocket tail and the dashboard in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
from dataclasses import replace
from urllib.parse import urlsplit

import click
from aiohttp import web

from vortex import oplog
from vortex.auth.exposure import ExposureRefused, startup_notice
from vortex.backends import make_api_keys
from vortex.config import ConfigError, Settings, public_origin


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
@click.option(
    "--functions-public-url",
    default=None,
    help="Where clients reach the functions behind a proxy, as the origin of their domain "
    "(https://fn.example.com: hello is https://hello.fn.example.com); sets the domain too "
    "(VORTEX_FUNCTIONS_PUBLIC_URL, default: the listener itself).",
)
@click.option(
    "--log-format",
    type=click.Choice(oplog.LOG_FORMATS),
    default=None,
    help="The server's log on stderr: text lines, or JSON lines (VORTEX_LOG_FORMAT, default text).",
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
    functions_public_url: str | None,
    log_format: str | None,
) -> None:
    """Serve the Vortex API and dashboard."""
    from vortex.http.admission import Admission, listening_sockets
    from vortex.http.app import create_app
    from vortex.isolates.host_process import HostStartError
    from vortex.isolates.listener import CannotListen

    try:
        settings = Settings.from_env()
        public_url = public_origin(functions_public_url or "", "--functions-public-url")
        if public_url is None:
            public_url = settings.functions_public_url
        elif not functions_domain:
            functions_domain = urlsplit(public_url).hostname
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
            functions_public_url=public_url,
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    _raise_open_files_limit()
    try:
        access = asyncio.run(_access_notice(settings))
    except ExposureRefused as exc:
        raise click.ClickException(str(exc)) from None
    chosen = log_format or os.environ.get("VORTEX_LOG_FORMAT", "text").strip().lower() or "text"
    if chosen not in oplog.LOG_FORMATS:
        raise click.ClickException(f"VORTEX_LOG_FORMAT must be text or json, not {chosen!r}")
    json_lines = chosen == "json"
    oplog.configure(
        os.environ.get("VORTEX_LOG_LEVEL", "INFO"),
        "json" if json_lines else "text",
        access=os.environ.get("VORTEX_ACCESS_LOG", "on").strip().lower() not in OFF,
        queue_lines=settings.log_queue_lines,
    )
    # Ours (vortex.access) says more: the function and the run.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # With JSON lines, the banner is log lines too: a log shipper reads nothing else.
    say = logging.getLogger("vortex.serve").info if json_lines else click.echo
    say(
        f"Vortex serving on http://{settings.host}:{settings.port} "
        f"({settings.workers} hosts, data in {settings.data_dir})"
    )
    if settings.functions_port:
        say(
            f"Functions answer on {settings.function_origin('{name}.' + settings.functions_domain)}"
            f" (listening on {settings.functions_listen_host}:{settings.functions_port})"
        )
    say(access)
    try:
        # aiohttp's default of 128 pending connections dropped the SYNs of a burst of
        # thousands of clients, which then waited out TCP's retry backoff (1, 3, 7... s).
        sockets = listening_sockets(
            settings.host,
            settings.port,
            LISTEN_BACKLOG,
            Admission.for_open_files(settings.api_connections_per_address),
        )
        web.run_app(
            create_app(settings),
            sock=sockets,
            print=None,
            handle_signals=True,
            backlog=LISTEN_BACKLOG,
            # aiohttp's 75 s for a first request head, and between requests, let slow clients
            # keep their descriptors that long.
            keepalive_timeout=settings.api_idle_timeout_ms / 1000,
        )
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None
    except CannotListen as exc:
        raise click.ClickException(str(exc)) from None
    except HostStartError as exc:
        raise click.ClickException(f"cannot start the hosts: {exc}") from None


OFF = ("0", "off", "false", "no")
LISTEN_BACKLOG = 4096
"""Connections the kernel queues before the server accepts them (capped by net.core.somaxconn)."""


def _raise_open_files_limit() -> None:
    """The soft limit of open files up to the hard one: every client connection is a descriptor
    (in the server while its head is read, then in a host), and the common default of 1,024
    let a thousand slow clients starve the API. Hosts inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _access_notice(settings: Settings) -> str:
    keys = make_api_keys(settings)
    try:
        return await startup_notice(settings, keys)
    finally:
        await keys.close()
