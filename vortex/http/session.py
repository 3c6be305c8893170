"""``/session``: the dashboard logs in with a key, asks who it is, and logs out.

The key is sent once, in the body of ``POST /session``, and never kept by the browser: the
answer sets the session cookies (``vortex.http.session_cookies``) and the page works with those
from then on. The CLI and the API go on sending ``Authorization: Bearer``; nothing here changes
that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from vortex.auth.errors import Forbidden, Unauthorized
from vortex.auth.service import Principal
from vortex.auth.sessions import Session
from vortex.errors import InvalidRequest
from vortex.http.auth import principal_of
from vortex.http.keys import API_KEYS, AUTH_OPEN_WITHOUT_KEYS, SESSION, SESSIONS
from vortex.http.responses import json_response, read_json_object
from vortex.http.session_cookies import (
    check_csrf_token,
    clear_session_cookies,
    session_id_of,
    set_session_cookies,
)

routes = web.RouteTableDef()

NO_STORE = {"Cache-Control": "no-store"}
"""The answers hold the CSRF token: no cache keeps them."""


def _iso(unix_time: float) -> str:
    return (
        datetime.fromtimestamp(unix_time, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def _answer(principal: Principal, session: Session | None) -> dict[str, Any]:
    return {
        "namespace": principal.namespace,
        "scope": principal.scope,
        "key_id": principal.key_id,
        "session": session is not None,
        "csrf_token": None if session is None else session.csrf_token,
        "expires_at": None if session is None else _iso(session.expires_at),
    }


@routes.post("/session")
async def log_in(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    token = body.get("key")
    if not isinstance(token, str) or not token.strip():
        raise InvalidRequest('send the API key as {"key": "vx_..."}')
    keys = request.app[API_KEYS]
    if not await keys.enabled():
        if request.app[AUTH_OPEN_WITHOUT_KEYS]:
            raise InvalidRequest("this server has no API keys: the dashboard needs no login")
        raise Unauthorized(
            "this server has no API keys and listens beyond loopback: the operator must "
            "create one (vortex keys create --namespace NAME) or allow unauthenticated use"
        )
    key = await keys.authenticate(token.strip())
    if key is None:
        raise Unauthorized("the API key is not valid: unknown or revoked")
    if key.scope != "functions":
        raise Forbidden(f"this API key is for {key.scope} and cannot open the dashboard")
    sessions = request.app[SESSIONS]
    previous = session_id_of(request)
    if previous is not None:  # a new login never keeps an old session (nor one planted)
        await sessions.end(previous)
    session_id, session = await sessions.open(key)
    principal = Principal(key.namespace, key.scope, key.id)
    response = json_response(_answer(principal, session), headers=NO_STORE)
    set_session_cookies(request, response, session_id, session)
    return response


@routes.get("/session")
async def who_am_i(request: web.Request) -> web.Response:
    return json_response(_answer(principal_of(request), request.get(SESSION)), headers=NO_STORE)


@routes.delete("/session")
async def log_out(request: web.Request) -> web.Response:
    sessions = request.app[SESSIONS]
    session_id = session_id_of(request)
    ended = False
    if session_id is not None:
        found = await sessions.find(session_id)
        if found is not None:
            check_csrf_token(request, found[0])
            await sessions.end(session_id)
            ended = True
    response = json_response({"ended": ended}, headers=NO_STORE)
    clear_session_cookies(request, response)
    return response
