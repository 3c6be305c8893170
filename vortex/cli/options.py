"""Options every server command shares (``--url``, ``--json``, the global ``--api-key``), the
client made with them, and the function-id check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from yarl import URL

from vortex.cli.errors import CLIError, ExitCode
from vortex.client import DEFAULT_URL, VortexClient
from vortex.errors import InvalidFunctionId
from vortex.ids import parse_function_id
from vortex.storage.names import parse_ref

F = TypeVar("F", bound=Callable[..., Any])
API_KEY = "vortex.api_key"
"""Where the group's ``--api-key`` is kept in ``click.Context.meta``, which every subcommand's
context shares."""


def remember_api_key(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[API_KEY] = value


def api_key() -> str | None:
    """The ``--api-key`` given before the command; None lets the client read VORTEX_API_KEY."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    value = ctx.meta.get(API_KEY)
    return value if isinstance(value, str) else None


def connect(url: str) -> VortexClient:
    """A client of the server at ``url`` with the key this command was given."""
    return VortexClient(url, api_key=api_key())


def _check_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        url = URL(value)
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL", ctx, param)
    return value


def url_option(command: F) -> F:
    return click.option(
        "--url",
        envvar="VORTEX_URL",
        default=DEFAULT_URL,
        show_default=True,
        show_envvar=True,
        callback=_check_url,
        help="The Vortex server to talk to.",
    )(command)


def json_option(command: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text."
    )(command)


def function_id(raw: str) -> str:
    """The canonical id, checked here so a typo never becomes a request (or another route)."""
    try:
        return parse_function_id(raw.strip())
    except InvalidFunctionId as exc:
        raise CLIError(
            f"{exc.message}; ids look like a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            ExitCode.USAGE,
            InvalidFunctionId.code,
        ) from None


def function_ref(raw: str) -> str:
    """A function id (canonical) or a function name, checked before any request is made."""
    try:
        return parse_ref(raw.strip())[1]
    except InvalidFunctionId as exc:
        raise CLIError(
            f"{exc.message}; ids look like a1b2c3d4-e5f6-7890-abcd-ef1234567890, "
            "names like hello-world",
            ExitCode.USAGE,
            InvalidFunctionId.code,
        ) from None
