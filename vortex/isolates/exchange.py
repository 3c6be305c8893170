"""HTTP as it crosses the pipe for module functions: the request given to ``fetch(request)``
(in the ``Run`` frame, protocol.py) and the response it returns, head first (``Response``), then
(for streamed bodies) chunks, then the end."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec


class HttpRequest(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """What a module function's ``fetch`` handler gets as its ``Request`` (in a ``Run`` frame)."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None = None
    protocol: str | None = None
    """The HTTP version the request came over (``request.cf.httpProtocol``), if known."""


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """The status and headers of a function's Response, with its body when it came whole."""

    status: int
    status_text: str
    headers: list[tuple[str, str]]
    body: bytes | None
    streaming: bool
    """True when the body follows as chunks (see ``Invocation.body_chunks``)."""


BODY_WINDOW = 1 << 20
"""Bytes of a streamed response body a run sends through the supervisor ahead of its reader
(``BodyPull``): past them its stream waits, as a listener run's waits for a slow client."""
BODY_PULL_EVERY = BODY_WINDOW // 4
"""Bytes the reader takes before it says so: one ``BodyPull`` per quarter window, not per
chunk (an SSE stream's chunks are a line each)."""


class BodyBroken(Exception):
    """A streamed response body ended in an error after its head was sent."""
