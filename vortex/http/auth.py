"""The API key middleware: who is asking, checked before any handler runs.

With no API key in the store, Vortex is single-tenant: every request passes as the operator
(``SINGLE_TENANT``, namespace ``default``), but only while the server listens on loopback or the
operator allowed it (``--allow-unauthenticated``): if the last key is revoked while a server
listens on a public address, requests are refused rather than let through.

With keys, every route needs ``Authorization: Bearer <key>`` except the few that hold no data:
``GET /health`` (load balancers cannot send keys), ``GET /openapi.json``, and the dashboard's
own files (``/``, ``/static/...``), which ask for a key in the browser; the dashboard's login and
logout (``POST``/``DELETE /session``); and the HTTP trigger ``/fn/{id}/...``, which is each
function's public face (webhooks, pages, APIs of its own, called by people who hold no Vortex
key): a function guards it itself if it must.

A request without a bearer key may carry the dashboard's session cookie instead
(``vortex.http.session``): the session names the key it was made from, looked up again on every
request, and a request with it that changes something, or opens a WebSocket, must carry the
session's CSRF token too (``vortex.http.session_cookies``).

WebSocket handshakes are requests like the others; a browser, which cannot set headers on a
WebSocket, may offer the key as a subprotocol ``bearer.<key>`` instead
(``new WebSocket(url, ["vortex", "bearer." + key])``).

``/metrics`` takes only keys made for it (``vortex keys create --metrics``); those keys reach no
function. The handler sees the caller as ``request[PRINCIPAL]``; docs/auth.md says what each
handler must check with it.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from vortex.auth.base import ApiKey, Scope
from vortex.auth.errors import Forbidden, Unauthorized
from vortex.auth.exposure import is_loopback
from vortex.auth.service import SINGLE_TENANT, Principal
from vortex.http.keys import API_KEYS, AUTH_OPEN_WITHOUT_KEYS, PRINCIPAL, SESSION, SESSIONS
from vortex.http.session_cookies import check_csrf_token, session_id_of

__all__ = [
    "authorize",
    "bearer_token",
    "is_loopback",
    "is_public",
    "principal_of",
    "require_api_key",
]

PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/"})
PUBLIC_PREFIXES = ("/static/",)
TRIGGER_PREFIX = "/fn/"
"""Public for every method: see the module's docstring."""
METRICS_PATH = "/metrics"
SESSION_PATH = "/session"
"""Logging in takes a key in its body, logging out ends what there is: neither needs one."""
WS_PROTOCOL_PREFIX = "bearer."


def is_public(request: web.Request) -> bool:
    if request.path.startswith(TRIGGER_PREFIX):
        return True
    if request.path == SESSION_PATH and request.method in (hdrs.METH_POST, hdrs.METH_DELETE):
        return True
    if request.method not in (hdrs.METH_GET, hdrs.METH_HEAD):
        return False
    return request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "")
        for protocol in (p.strip() for p in offered.split(",")):
            if protocol.startswith(WS_PROTOCOL_PREFIX):
                return protocol[len(WS_PROTOCOL_PREFIX) :]
    return None


def principal_of(request: web.Request) -> Principal:
    """The caller of a protected route (the middleware always sets it there)."""
    try:
        return request[PRINCIPAL]
    except KeyError:
        raise Unauthorized("this request was not authenticated") from None


@web.middleware
async def require_api_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request):
        return await handler(request)
    request[PRINCIPAL] = await authorize(request)
    return await handler(request)


async def authorize(request: web.Request) -> Principal:
    """Who the caller of a protected route is, or Unauthorized / Forbidden (AuthUnavailable when
    the store cannot say). Asked again, while it lasts, of a WebSocket opened with the request:
    a key revoked (or a first key created) ends it as it would refuse a new request."""
    keys = request.app[API_KEYS]
    if not await keys.enabled():
        if not request.app[AUTH_OPEN_WITHOUT_KEYS]:
            raise Unauthorized(
                "this server has no API keys and listens beyond loopback: the operator must "
                "create one (vortex keys create --namespace NAME) or allow unauthenticated use"
            )
        return SINGLE_TENANT
    token = bearer_token(request)
    key = await keys.authenticate(token) if token is not None else await _session_key(request)
    if key is None:
        raise Unauthorized("the API key is not valid: unknown or revoked")
    wanted: Scope = "metrics" if request.path == METRICS_PATH else "functions"
    if key.scope != wanted:
        raise Forbidden(f"this API key is for {key.scope} and cannot be used on {request.path}")
    return Principal(key.namespace, key.scope, key.id)


async def _session_key(request: web.Request) -> ApiKey:
    """The key of the dashboard session the request's cookie names (CSRF checked)."""
    session_id = session_id_of(request)
    if session_id is None:
        raise Unauthorized("an API key is required: send Authorization: Bearer <key>")
    found = await request.app[SESSIONS].find(session_id)
    if found is None:
        raise Unauthorized(
            "the dashboard's session has ended (logged out, expired, or its API key was "
            "revoked): log in again"
        )
    session, key = found
    check_csrf_token(request, session)
    request[SESSION] = session
    return key
