"""Exit codes, and the one place where a failure becomes one line on stderr and a code.

Scripts branch on these codes; they are documented in docs/cli.md and must not change.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from enum import IntEnum
from typing import Any, ParamSpec

import click

from vortex.cli.output import Printer
from vortex.client import (
    APIError,
    ClientError,
    InvalidFunctionId,
    InvalidRequest,
    NotFound,
    ServerUnreachable,
    UnexpectedResponse,
)


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    """The function failed (threw, or hit a limit), the code was refused, a file was in the way."""
    USAGE = 2
    """A wrong option or argument, a malformed function id (click uses 2 for usage errors too)."""
    UNREACHABLE = 3
    """No Vortex server answered at the URL."""
    NOT_FOUND = 4
    """No function with that id."""
    SERVER_ERROR = 5
    """The server answered with an error of its own (5xx), or reports itself unhealthy."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT, as shells report it)."""


class CLIError(Exception):
    """A failure the CLI detects itself, before or without asking the server."""

    def __init__(self, message: str, exit_code: ExitCode, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code


UNREACHABLE_HINT = "is `vortex serve` running there? (set --url or VORTEX_URL)"
API_KEY_HINT = "give the CLI a key with VORTEX_API_KEY or `vortex --api-key KEY` (docs/auth.md)"


def exit_code_for(error: ClientError) -> ExitCode:
    if isinstance(error, ServerUnreachable):
        return ExitCode.UNREACHABLE
    if isinstance(error, NotFound):
        return ExitCode.NOT_FOUND
    if isinstance(error, InvalidFunctionId):
        return ExitCode.USAGE
    if isinstance(error, InvalidRequest):
        return ExitCode.FAILED
    return ExitCode.SERVER_ERROR


def refused_key(error: ClientError) -> bool:
    """The server refused the API key (or its scope): retrying as is cannot succeed."""
    return isinstance(error, APIError) and error.status in (401, 403)


def error_json(error: ClientError | CLIError) -> dict[str, Any]:
    if isinstance(error, APIError):
        return error.to_json()
    if isinstance(error, CLIError):
        code = error.code
    elif isinstance(error, UnexpectedResponse):
        code = "unexpected_response"
    else:
        code = "server_unreachable"
    return {"error": {"code": code, "message": error.message}}


def report(error: ClientError | CLIError, printer: Printer, *, as_json: bool) -> ExitCode:
    """Print a failure: one line on stderr, and its JSON on stdout for ``--json``."""
    if as_json:
        printer.json(error_json(error))
    message = error.message
    if isinstance(error, ServerUnreachable) and not isinstance(error, UnexpectedResponse):
        message = f"{message}; {UNREACHABLE_HINT}"
    elif isinstance(error, APIError) and error.code == "unauthorized":
        # The server's message speaks HTTP (Authorization: Bearer); a CLI user needs the flag.
        message = f"{message}; {API_KEY_HINT}"
    printer.error(message)
    return error.exit_code if isinstance(error, CLIError) else exit_code_for(error)


P = ParamSpec("P")


def command_errors(body: Callable[P, int]) -> Callable[P, None]:
    """Run a command body that returns an exit code; no failure ever shows a traceback."""

    @functools.wraps(body)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        as_json = bool(kwargs.get("as_json", False))
        printer = Printer.from_env()
        try:
            code = body(*args, **kwargs)
        except (ClientError, CLIError) as exc:
            code = report(exc, printer, as_json=as_json)
        except KeyboardInterrupt:
            printer.err()
            code = ExitCode.INTERRUPTED
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:
            if os.environ.get("VORTEX_DEBUG"):
                raise
            # A bug of the CLI itself: still one line, and a way to see the rest.
            printer.error(
                f"unexpected {type(exc).__name__}: {exc} (set VORTEX_DEBUG=1 for the traceback)"
            )
            code = ExitCode.FAILED
        click.get_current_context().exit(int(code))

    return wrapper
