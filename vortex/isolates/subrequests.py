"""Outbound ``fetch()`` as the isolates package sees it: plain data and a callable.

The host asks for a sub-request with a frame; the supervisor hands it to a ``Fetcher`` injected
by the server (``vortex.outbound``, on aiohttp's client), so this package never does network I/O
itself and user code never gets anything but strings, numbers and bytes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Subrequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None
    redirect: str
    """"follow", "manual" or "error", as in ``RequestInit.redirect``."""


@dataclass(frozen=True, slots=True)
class SubrequestResponse:
    status: int
    status_text: str
    headers: list[tuple[str, str]]
    url: str
    redirected: bool
    body: bytes


class SubrequestRefused(Exception):
    """The sub-request was not made or did not complete; the message becomes the TypeError that
    the function's ``fetch()`` rejects with, so it is part of the API and must stay stable."""


class Fetcher(Protocol):
    async def __call__(
        self, request: Subrequest, allow_hosts: Sequence[str]
    ) -> SubrequestResponse: ...


async def refuse_all(request: Subrequest, allow_hosts: Sequence[str]) -> SubrequestResponse:
    """The fetcher of a pool that was given none: no network at all."""
    raise SubrequestRefused("fetch is not available on this server")
