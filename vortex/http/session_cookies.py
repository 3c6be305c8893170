"""The dashboard session's cookies, and the CSRF check of requests made with them.

Two cookies, both ``SameSite=Strict`` and ``Path=/``:

- the session id, ``HttpOnly``: the browser sends it, no script reads it;
- the session's CSRF token, readable by the dashboard's scripts, which send it back in the
  ``X-Vortex-CSRF`` header (on a WebSocket, as the subprotocol ``csrf.<token>``). The server
  compares it with the token kept in the session, not with the cookie, so a cookie planted by
  a neighbouring page proves nothing.

``SameSite=Strict`` keeps the cookies off requests of other sites, but a function's page may be
the same *site* as the dashboard (functions on ``*.fn.example.com``, the dashboard on
``vortex.example.com``): the browser then sends the session cookie with the page's requests, and
only the token (no page of another origin can set a custom header without a CORS preflight the
API never grants) and ``vortex.http.browsers`` (which refuses same-site requests that change
something) stop them.

Over HTTPS (the request, its ``Origin``, or a proxy's ``X-Forwarded-Proto`` says so) both are
``Secure`` and named with the ``__Host-`` prefix, which browsers keep only for the exact host
that set them, over HTTPS: no subdomain can plant or shadow them.
"""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web

from vortex.auth.errors import InvalidCsrfToken
from vortex.auth.sessions import SESSION_SECONDS, Session
from vortex.http.browsers import SAFE_METHODS

SESSION_COOKIE = "vortex_session"
CSRF_COOKIE = "vortex_csrf"
SECURE_PREFIX = "__Host-"
CSRF_HEADER = "X-Vortex-CSRF"
CSRF_PROTOCOL_PREFIX = "csrf."


def is_https(request: web.Request) -> bool:
    """Whether the browser reached the server over HTTPS. A client that claims it falsely only
    gets cookies it cannot send back over plain HTTP."""
    origin = request.headers.get(hdrs.ORIGIN, "").strip().lower()
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or origin.startswith("https://") or forwarded == "https"


def session_id_of(request: web.Request) -> str | None:
    """The session id the browser sent (the ``__Host-`` cookie first), or None."""
    for name in (SECURE_PREFIX + SESSION_COOKIE, SESSION_COOKIE):
        value = request.cookies.get(name)
        if value:
            return value
    return None


def needs_csrf_token(request: web.Request) -> bool:
    """A request that changes something, or a WebSocket (whose answers no same-origin policy
    keeps from the page that opened it)."""
    websocket = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
    return websocket or request.method not in SAFE_METHODS


def sent_csrf_token(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header.strip()
    offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "")
    for protocol in (p.strip() for p in offered.split(",")):
        if protocol.startswith(CSRF_PROTOCOL_PREFIX):
            return protocol[len(CSRF_PROTOCOL_PREFIX) :]
    return None


def check_csrf_token(request: web.Request, session: Session) -> None:
    if not needs_csrf_token(request):
        return
    sent = sent_csrf_token(request)
    if sent is None or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise InvalidCsrfToken(
            "a request made with the dashboard's session cookie that changes something must "
            f"carry the session's CSRF token in {CSRF_HEADER} (the {CSRF_COOKIE} cookie's value)"
        )


def set_session_cookies(
    request: web.Request, response: web.StreamResponse, session_id: str, session: Session
) -> None:
    secure = is_https(request)
    prefix = SECURE_PREFIX if secure else ""
    for name, value, httponly in (
        (SESSION_COOKIE, session_id, True),
        (CSRF_COOKIE, session.csrf_token, False),
    ):
        response.set_cookie(
            prefix + name,
            value,
            max_age=SESSION_SECONDS,
            path="/",
            secure=secure or None,
            httponly=httponly or None,
            samesite="Strict",
        )


def clear_session_cookies(request: web.Request, response: web.StreamResponse) -> None:
    """Expire the session cookies of this scheme, and any other the browser sent, with the
    attributes they were set with (a browser ignores the deletion of a ``__Host-`` cookie
    that is not ``Secure``)."""
    scheme_prefix = SECURE_PREFIX if is_https(request) else ""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        for prefix in (SECURE_PREFIX, ""):
            if prefix == scheme_prefix or prefix + name in request.cookies:
                response.del_cookie(
                    prefix + name,
                    path="/",
                    secure=bool(prefix) or None,
                    httponly=(name == SESSION_COOKIE) or None,
                    samesite="Strict",
                )
