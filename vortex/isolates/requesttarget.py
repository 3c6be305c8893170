"""Requests no function can serve, answered by the listener before any run starts.

The fetch standard forbids CONNECT, TRACE and TRACK: ``new Request`` throws on them, so a run
could only fail, and the answer would blame the function (a 500 ``function_error``) for what
the client sent. Of RFC 9112's request-target forms, a function serves two: origin-form
(``/path?query``) and absolute-form (``http://host/path``, as proxies send); asterisk-form
(``OPTIONS *``) names no path, and made a URL of ``http://host*/``. An HTTP version other than
1.0 and 1.1 is answered 505.
"""

from __future__ import annotations

from dataclasses import dataclass

from vortex.isolates.hostheader import authority_of

FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})

ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
"""A 405 must say what is allowed (RFC 9110 15.5.6): the methods every function can receive;
it may take others (WebDAV's, say) as well."""


@dataclass(frozen=True, slots=True)
class TargetRefusal:
    status: int
    code: str
    message: str
    headers: tuple[tuple[str, str], ...] = ()


SERVED_VERSIONS = frozenset({"1.0", "1.1"})


def target_refusal(method: str, target: bytes, version: str = "1.1") -> TargetRefusal | None:
    """Why a request with this method, target and HTTP version is answered without a run, or
    None."""
    if version not in SERVED_VERSIONS:
        # The parser reads any one-digit version (HTTP/2.0, HTTP/3.0 as a request line); such a
        # request was served as HTTP/1.0, the function told so by request.cf.httpProtocol.
        return TargetRefusal(
            505,
            "http_version_not_supported",
            f"HTTP/{version} is not served on this listener: send HTTP/1.1 (or 1.0)",
        )
    if method in FORBIDDEN_METHODS:
        return TargetRefusal(
            405,
            "method_not_allowed",
            f"{method} requests are not served: the fetch standard forbids the method, "
            "so no function can receive it",
            (("allow", ALLOW),),
        )
    if target.startswith(b"/") or authority_of(target) is not None:
        return None
    return TargetRefusal(
        400,
        "bad_request",
        "The request target is not a path (/path?query) nor an absolute URL: "
        "a function is asked for a path of its origin",
    )
