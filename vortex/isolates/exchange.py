"""HTTP as it crosses the pipe for module functions: the request given to ``fetch(request)``
and the response it returns, head first, then (for streamed bodies) chunks, then the end."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(data: str) -> bytes:
    return base64.b64decode(data)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What a module function's ``fetch`` handler gets as its ``Request``."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None = None

    def to_frame(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(pair) for pair in self.headers],
            "body": None if self.body is None else b64encode(self.body),
        }


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """The status and headers of a function's Response, with its body when it came whole."""

    status: int
    status_text: str
    headers: list[tuple[str, str]]
    body: bytes | None
    streaming: bool
    """True when the body follows as chunks (see ``Invocation.body_chunks``)."""

    @classmethod
    def from_frame(cls, message: dict[str, Any]) -> ResponseHead:
        body = message.get("body")
        return cls(
            status=int(message["status"]),
            status_text=str(message.get("statusText") or ""),
            headers=[(str(k), str(v)) for k, v in message.get("headers") or []],
            body=None if body is None else b64decode(body),
            streaming=bool(message.get("stream")),
        )


class BodyBroken(Exception):
    """A streamed response body ended in an error after its head was sent."""
