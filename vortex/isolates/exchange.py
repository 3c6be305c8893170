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


class BodyBroken(Exception):
    """A streamed response body ended in an error after its head was sent."""
