"""An asset's HTTP answer: status and headers for a routing decision (``routing``), and
whether its bytes go with it. The same for the listener (hosts) and ``env.ASSETS.fetch``."""

from __future__ import annotations

from dataclasses import dataclass

from vortex.assets.headers import HeaderRule, apply_headers
from vortex.assets.mediatypes import content_type
from vortex.assets.routing import (
    CACHE_CONTROL,
    Found,
    Redirect,
    etag_of,
    not_modified,
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body_of: Found | None = None
    """The asset whose bytes are the body; None: no body (304, a redirect, HEAD, 404)."""
    length: int = 0
    """The ``content-length`` to state (a HEAD's is its GET's)."""


def answer(
    decision: Found | Redirect | None,
    method: str,
    if_none_match: str | None,
    rules: tuple[HeaderRule, ...] = (),
    path: str = "/",
) -> Answer:
    """``rules``: the ``_headers`` file's, applied to an asset's answer for the request
    ``path``."""
    if decision is None:
        return Answer(404, [])
    if isinstance(decision, Redirect):
        return Answer(decision.status, [("location", decision.location)])
    etag = etag_of(decision.digest)
    headers = [
        ("content-type", content_type(decision.path)),
        ("etag", etag),
        ("cache-control", CACHE_CONTROL),
    ]
    if rules:
        headers = apply_headers(rules, path, headers)
    if decision.status == 200 and not_modified(if_none_match, etag):
        return Answer(304, headers)
    if method == "HEAD":
        return Answer(decision.status, headers, None, decision.size)
    return Answer(decision.status, headers, decision, decision.size)
