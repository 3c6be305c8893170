"""Outbound ``fetch()`` as the isolates package sees it: plain data and a callable.

The host asks for a sub-request with a frame; the supervisor hands it to a ``Fetcher`` injected
by the server (``vortex.outbound``, on aiohttp's client), so this package never does network I/O
itself and user code never gets anything but strings, numbers and bytes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

LOOP_HEADER = "x-vortex-loop"
"""The hop count of a request: the functions listener reads it, every outbound ``fetch()`` of a
run sends it, one more than the run's own request had (0 when it had none). It counts up, so a
client that sends it can only shorten its own chain, never lengthen it."""
MAX_HOPS = 16
"""A request whose hop count is this or more is refused (``508 loop_detected``): a function
that reaches itself through a route, however indirectly, runs at most this many times per
chain, as a Worker calls itself or another Worker at most 16 times (Workers' ``CF-EW-Via``)."""
LOOP_DETECTED = "loop_detected"


def hops_of(value: str) -> int:
    """The hop count an ``x-vortex-loop`` value says; one that is no count is 0, and a count
    too long to be small is ``MAX_HOPS`` (``int()`` of thousands of digits would raise)."""
    value = value.strip()
    if not value.isdigit() or not value.isascii():
        return 0
    return int(value) if len(value) <= 4 else MAX_HOPS


@dataclass(frozen=True, slots=True)
class Subrequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None
    redirect: str
    """"follow", "manual" or "error", as in ``RequestInit.redirect``."""
    hops: int = 0
    """The hop count of the request that started the run (``LOOP_HEADER``); the sub-request
    carries one more."""


class ResponseBody(Protocol):
    """The rest of a response body, still arriving from the origin: read as the run reads it,
    so that the server never holds more of it than the run's window."""

    async def read(self, most: int) -> bytes:
        """Up to ``most`` bytes as soon as some are in; b"" at the end. Raises
        ``SubrequestRefused`` when the body breaks (too large, idle too long, cut off)."""
        ...

    def close(self) -> None:
        """Let go of the connection (at once, whether the body was read whole or not)."""
        ...


@dataclass(frozen=True, slots=True)
class SubrequestResponse:
    status: int
    status_text: str
    headers: list[tuple[str, str]]
    url: str
    redirected: bool
    body: bytes
    """The whole body, or with ``rest`` its first bytes (those already in with the head)."""
    rest: ResponseBody | None = None


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
