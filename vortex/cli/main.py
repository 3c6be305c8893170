"""The ``vortex`` command: a thin client of the HTTP API, plus ``serve``."""

from __future__ import annotations

import click

from vortex.cli.d1 import d1
from vortex.cli.dev import dev
from vortex.cli.functions import delete, deploy, list_functions
from vortex.cli.health import health
from vortex.cli.index import index
from vortex.cli.init import init
from vortex.cli.keys import keys
from vortex.cli.logs import logs
from vortex.cli.options import remember_api_key
from vortex.cli.output import tolerate_narrow_encodings
from vortex.cli.run import run, trigger
from vortex.cli.runs import runs
from vortex.cli.serve import serve
from vortex.cli.versions import rollback, versions


@click.group()
@click.version_option(package_name="vortex")
@click.option(
    "--api-key",
    metavar="KEY",
    callback=remember_api_key,
    expose_value=False,
    help="The API key to send (Authorization: Bearer); overrides VORTEX_API_KEY. "
    "Visible to other users in the process list: prefer the variable on shared machines.",
)
def cli() -> None:
    """Vortex: serverless JavaScript functions on your own machine.

    \b
    Exit codes: 0 ok, 1 the function or command failed, 2 usage error,
    3 server unreachable, 4 function not found, 5 server error, 130 interrupted.
    """
    tolerate_narrow_encodings()


for command in (
    init,
    deploy,
    dev,
    run,
    trigger,
    list_functions,
    logs,
    runs,
    versions,
    rollback,
    delete,
    health,
    serve,
    keys,
    index,
    d1,
):
    cli.add_command(command)
