"""``vortex health``: is the server up, and how is its pool of hosts?"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from vortex.cli.errors import ExitCode, command_errors
from vortex.cli.options import connect, json_option, url_option
from vortex.cli.output import Printer
from vortex.client import Health


@click.command()
@url_option
@json_option
@command_errors
def health(url: str, as_json: bool) -> int:
    """Show the server's health; exit 5 when it has no working host."""
    printer = Printer.from_env()

    async def fetch() -> Health:
        async with connect(url) as client:
            return await client.health()

    report = asyncio.run(fetch())
    code = ExitCode.SERVER_ERROR if report.status == "unhealthy" else ExitCode.OK
    if as_json:
        printer.json(report.raw)
        return code
    where = printer.style(url, bold=True)
    if report.status == "healthy":
        printer.ok(f"Vortex at {where} is {printer.style('healthy', 'green', bold=True)}")
    elif report.status == "unhealthy":
        printer.fail(f"Vortex at {where} is {printer.style('unhealthy', 'red', bold=True)}")
    else:
        printer.warn(f"Vortex at {where} is {printer.style(report.status, 'yellow', bold=True)}")
    workers = f"  Workers: {report.active_workers} of {report.max_workers} active"
    spare = report.raw.get("spare_workers")
    printer.out(workers + (f", {spare} spare" if isinstance(spare, int) else ""))
    running = report.raw.get("running")
    if isinstance(running, int):
        printer.out(f"  Running: {running}")
    restarts = report.raw.get("host_restarts")
    if isinstance(restarts, int):
        recycles = report.raw.get("host_recycles")
        recycled = f", {recycles} recycled" if isinstance(recycles, int) else ""
        printer.out(f"  Host restarts: {restarts}{recycled}")
    for key, label in (
        ("storage", "Storage"),
        ("logbus", "Log bus"),
        ("kv", "KV"),
        ("auth", "API keys"),
    ):
        backend = report.raw.get(key)
        if isinstance(backend, dict):
            printer.out(f"  {label}: {backend_line(backend, printer)}")
    return code


def backend_line(backend: dict[str, Any], printer: Printer) -> str:
    name = str(backend.get("backend", "?"))
    if backend.get("ok"):
        return f"{name} {printer.style('✓', 'green', bold=True)}"
    error = backend.get("error")
    reason = f" ({error})" if error else ""
    return f"{name} {printer.style('✗', 'red', bold=True)}{reason}"
