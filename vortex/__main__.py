from vortex.cli.main import cli

cli()
