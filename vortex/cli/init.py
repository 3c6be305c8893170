"""``vortex init``: a new function to start from, exactly the README's example."""

from __future__ import annotations

from pathlib import Path

import click

from vortex.cli.errors import CLIError, ExitCode, command_errors
from vortex.cli.output import Printer

FILENAME = "index.js"

BANNER = r"""
 __     __         _
 \ \   / /__  _ __| |_ _____  __
  \ \ / / _ \| '__| __/ _ \ \/ /
   \ V / (_) | |  | ||  __/>  <
    \_/ \___/|_|   \__\___/_/\_\
"""

TEMPLATE = """\
// index.js
console.log("🚀 Function starting...");

// Async operations work seamlessly
await new Promise(resolve => setTimeout(resolve, 100));

// Perform computation
const result = {
  message: "Hello from Vortex!",
  timestamp: new Date().toISOString(),
  computed: Array.from({ length: 5 }, (_, i) => i * i),
};

console.log("Result:", JSON.stringify(result, null, 2));

// Return data to the caller
Vortex.return(result);
"""


@click.command()
@click.option("--force", is_flag=True, help=f"Overwrite an existing {FILENAME}.")
@command_errors
def init(force: bool) -> int:
    """Create index.js, an example function to start from."""
    printer = Printer.from_env()
    target = Path(FILENAME)
    existed = target.exists()
    if target.is_dir():
        raise CLIError(f"{FILENAME} is a directory", ExitCode.FAILED, "file_exists")
    if existed and not force:
        raise CLIError(
            f"{FILENAME} already exists; use --force to overwrite it",
            ExitCode.FAILED,
            "file_exists",
        )
    printer.out(printer.style(BANNER.strip("\n"), "magenta", bold=True))
    printer.out()
    printer.ok("Initializing new Vortex function...")
    try:
        # Bytes, so the file is the same on every platform (no CRLF translation).
        target.write_bytes(TEMPLATE.encode("utf-8"))
    except OSError as exc:
        raise CLIError(
            f"cannot write {FILENAME}: {exc.strerror or exc}", ExitCode.FAILED, "write_failed"
        ) from None
    printer.ok(f"{'Overwrote' if existed else 'Created'} {FILENAME}")
    printer.step("Next steps:")
    printer.out(f"  1. Edit {FILENAME} to add your logic")
    printer.out(f"  2. Deploy with: {printer.style(f'vortex deploy {FILENAME}', 'cyan')}")
    return ExitCode.OK
