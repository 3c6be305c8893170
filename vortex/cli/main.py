"""The ``vortex`` command: a thin client of the HTTP API, plus ``serve``."""

from __future__ import annotations

import click

from vortex.cli.serve import serve


@click.group()
@click.version_option(package_name="vortex")
def cli() -> None:
    """Vortex: serverless JavaScript functions on your own machine."""


cli.add_command(serve)
