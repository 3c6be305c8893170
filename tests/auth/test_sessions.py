"""The dashboard's sessions on a real server: a key is posted once to ``/session`` and the
browser keeps an HttpOnly cookie that is not the key; requests with the cookie that change
something need the session's CSRF token; logging out or revoking the key ends the session,
its WebSockets included. Bearer keys (the CLI, the API) work as before, with no token.

Cookies are handled by hand (a ``DummyCookieJar``): each test says exactly what it sends.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http.cookies import Morsel, SimpleCookie
from typing import Any

import aiohttp
import pytest

from tests.auth.test_namespaces import make_key
from tests.auth.test_server import vortex_keys
from tests.server import ServerProcess
from vortex.auth.sessions import SESSION_SECONDS

CODE = {"code": "Vortex.return(1);"}


@dataclass
class LoggedIn:
    cookies: dict[str, Morsel[str]]
    body: dict[str, Any]

    @property
    def session_cookie(self) -> str:
        name = next(n for n in self.cookies if n.endswith("vortex_session"))
        return f"{name}={self.cookies[name].value}"

    @property
    def csrf(self) -> str:
        return str(self.body["csrf_token"])

    def headers(self, *, csrf: bool = True) -> dict[str, str]:
        headers = {"Cookie": self.session_cookie}
        if csrf:
            headers["X-Vortex-CSRF"] = self.csrf
        return headers


def set_cookies(response: aiohttp.ClientResponse) -> dict[str, Morsel[str]]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        jar.load(header)
    return dict(jar)


@pytest.fixture
async def http(server_with_keys: tuple[ServerProcess, str, str]) -> AsyncIterator[Any]:
    server = server_with_keys[0]
    async with aiohttp.ClientSession(
        base_url=server.url, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        yield session


@pytest.fixture
def server_with_keys(
    server_factory: Callable[..., ServerProcess],
) -> tuple[ServerProcess, str, str]:
    server = server_factory(workers=1)
    key, other = make_key(server, "acme"), make_key(server, "acme")
    server.wait_for_keys(key, other)
    return server, key, other


async def log_in(
    http: aiohttp.ClientSession, key: str, headers: dict[str, str] | None = None
) -> LoggedIn:
    async with http.post("/session", json={"key": key}, headers=headers) as response:
        assert response.status == 200, await response.text()
        return LoggedIn(set_cookies(response), await response.json())


async def status_of(
    http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, str | None]:
    async with http.request(method, path, **kwargs) as response:
        body = await response.json(content_type=None)
        error = body.get("error") if isinstance(body, dict) else None
        return response.status, error["code"] if isinstance(error, dict) else None


async def test_a_login_sets_an_httponly_cookie_that_is_not_the_key(
    http: aiohttp.ClientSession, server_with_keys: tuple[ServerProcess, str, str]
) -> None:
    _, key, _ = server_with_keys
    async with http.post("/session", json={"key": key}) as response:
        assert response.status == 200
        text = await response.text()
        body = json.loads(text)
        cookies = set_cookies(response)
        set_cookie_headers = " ".join(response.headers.getall("Set-Cookie"))
    assert set(cookies) == {"vortex_session", "vortex_csrf"}
    session, csrf = cookies["vortex_session"], cookies["vortex_csrf"]
    assert session["httponly"] is True and csrf["httponly"] == ""
    for cookie in (session, csrf):
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/"
        assert cookie["max-age"] == str(SESSION_SECONDS)
        assert cookie["secure"] == ""  # plain HTTP: a Secure cookie would never come back
        assert cookie["domain"] == ""  # host-only: no subdomain (no function) receives it
    # Neither the key, nor its random part, nor the digest the key store keeps.
    secret = key.split("_", 2)[2]  # vx_<namespace>_<random>: the random part may hold "_"
    digest = hashlib.sha256(key.encode()).hexdigest()
    for leak in (key, secret, digest):
        assert leak not in set_cookie_headers and leak not in text
    assert body["namespace"] == "acme" and body["session"] is True
    assert body["csrf_token"] == csrf.value
    assert response.headers["Cache-Control"] == "no-store"

    cookie = {"Cookie": f"vortex_session={session.value}"}
    async with http.get("/session", headers=cookie) as response:
        assert response.status == 200
        who = await response.json()
    assert who == {**body, "csrf_token": csrf.value}
    assert await status_of(http, "GET", "/functions", headers=cookie) == (200, None)
    assert await status_of(http, "GET", "/functions") == (401, "unauthorized")

    # The CLI and the API: a bearer key as before, and no CSRF token.
    bearer = {"Authorization": f"Bearer {key}"}
    assert await status_of(http, "POST", "/deploy", json=CODE, headers=bearer) == (200, None)
    async with http.get("/session", headers=bearer) as response:
        assert (await response.json())["session"] is False


async def test_a_login_is_refused_without_a_valid_functions_key(
    http: aiohttp.ClientSession, server_with_keys: tuple[ServerProcess, str, str]
) -> None:
    server, key, _ = server_with_keys
    metrics = vortex_keys(server, "create", "--metrics").stdout.strip()
    server.wait_for_keys(metrics)
    for body, expected in (
        ({"key": "vx_acme_" + "x" * 43}, (401, "unauthorized")),
        ({"key": metrics}, (403, "forbidden")),
        ({"key": 42}, (400, "invalid_request")),
        ({}, (400, "invalid_request")),
    ):
        async with http.post("/session", json=body) as response:
            assert (response.status, (await response.json())["error"]["code"]) == expected
            assert "Set-Cookie" not in response.headers
    # A page of another site cannot log a browser in with a key of its choosing.
    plain = {"Content-Type": "text/plain"}
    login = json.dumps({"key": key})
    assert await status_of(http, "POST", "/session", data=login, headers=plain) == (
        415,
        "unsupported_media_type",
    )
    evil = {"Origin": "http://evil.example"}
    assert await status_of(http, "POST", "/session", json={"key": key}, headers=evil) == (
        403,
        "cross_site_request",
    )


async def test_requests_with_the_cookie_that_change_something_need_its_csrf_token(
    http: aiohttp.ClientSession, server_with_keys: tuple[ServerProcess, str, str]
) -> None:
    server, key, other = server_with_keys
    mine, theirs = await log_in(http, key), await log_in(http, other)
    assert mine.csrf != theirs.csrf

    no_token = mine.headers(csrf=False)
    refused = (403, "invalid_csrf_token")
    assert await status_of(http, "POST", "/deploy", json=CODE, headers=no_token) == refused
    for wrong in ("", "x" * 43, theirs.csrf):
        headers = {**no_token, "X-Vortex-CSRF": wrong}
        assert await status_of(http, "POST", "/deploy", json=CODE, headers=headers) == refused
    # The csrf cookie proves nothing: a neighbouring page could have planted it.
    planted = {"Cookie": f"{mine.session_cookie}; vortex_csrf=planted", "X-Vortex-CSRF": "planted"}
    assert await status_of(http, "POST", "/deploy", json=CODE, headers=planted) == refused

    async with http.post("/deploy", json=CODE, headers=mine.headers()) as response:
        assert response.status == 200
        function_id = (await response.json())["function_id"]
    for method, path in (
        ("POST", f"/execute/{function_id}"),
        ("DELETE", f"/functions/{function_id}"),
    ):
        assert await status_of(http, method, path, headers=no_token) == refused
    assert await status_of(http, "POST", f"/execute/{function_id}", headers=mine.headers()) == (
        200,
        None,
    )
    # Reads need no token (no other origin can read their answers) ...
    assert await status_of(http, "GET", f"/functions/{function_id}", headers=no_token) == (
        200,
        None,
    )
    # ... and the browser checks still apply with the token.
    evil = {**mine.headers(), "Origin": "http://evil.example"}
    assert await status_of(http, "POST", "/deploy", json=CODE, headers=evil) == (
        403,
        "cross_site_request",
    )
    same_site = {**mine.headers(), "Sec-Fetch-Site": "same-site"}
    assert await status_of(http, "POST", "/deploy", json=CODE, headers=same_site) == (
        403,
        "cross_site_request",
    )
    # A made-up session id is no session.
    forged = {"Cookie": "vortex_session=" + "A" * 43, "X-Vortex-CSRF": mine.csrf}
    assert await status_of(http, "GET", "/functions", headers=forged) == (401, "unauthorized")

    # A WebSocket with the cookie offers the token as a subprotocol.
    async with aiohttp.ClientSession(
        base_url=server.ws_url, cookie_jar=aiohttp.DummyCookieJar()
    ) as ws_http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused_ws:
            await ws_http.ws_connect(f"/ws/{function_id}", headers=no_token)
        assert refused_ws.value.status == 403
        ws = await ws_http.ws_connect(
            f"/ws/{function_id}", headers=no_token, protocols=("vortex", f"csrf.{mine.csrf}")
        )
        assert ws.protocol == "vortex"
        await http.post(f"/execute/{function_id}", headers=mine.headers())
        await ws.close()


async def open_tail(
    server: ServerProcess, logged_in: LoggedIn, function_id: str
) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    session = aiohttp.ClientSession(base_url=server.ws_url, cookie_jar=aiohttp.DummyCookieJar())
    ws = await session.ws_connect(
        f"/ws/{function_id}",
        headers=logged_in.headers(csrf=False),
        protocols=("vortex", f"csrf.{logged_in.csrf}"),
    )
    return session, ws


async def deploy_with(http: aiohttp.ClientSession, logged_in: LoggedIn) -> str:
    async with http.post("/deploy", json=CODE, headers=logged_in.headers()) as response:
        assert response.status == 200
        function_id: str = (await response.json())["function_id"]
        return function_id


async def test_logging_out_ends_the_session_and_its_websockets(
    http: aiohttp.ClientSession, server_with_keys: tuple[ServerProcess, str, str]
) -> None:
    server, key, _ = server_with_keys
    mine = await log_in(http, key)
    function_id = await deploy_with(http, mine)
    ws_session, ws = await open_tail(server, mine, function_id)
    try:
        # Logging out changes something too: not without the token while the session lives.
        assert await status_of(http, "DELETE", "/session", headers=mine.headers(csrf=False)) == (
            403,
            "invalid_csrf_token",
        )
        async with http.delete("/session", headers=mine.headers()) as response:
            assert response.status == 200
            assert await response.json() == {"ended": True}
            cleared = set_cookies(response)
        assert set(cleared) == {"vortex_session", "vortex_csrf"}
        assert all(c["max-age"] == "0" and c.value == "" for c in cleared.values())
        # The old cookie, sent again (a copy someone kept), opens nothing.
        assert await status_of(http, "GET", "/functions", headers=mine.headers()) == (
            401,
            "unauthorized",
        )
        message = await asyncio.wait_for(ws.receive(), 15)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4401, message
    finally:
        await ws.close()
        await ws_session.close()
    # Logging out twice, or with nothing, is fine.
    async with http.delete("/session", headers=mine.headers()) as response:
        assert response.status == 200 and await response.json() == {"ended": False}


async def test_revoking_a_key_ends_its_sessions_and_their_websockets(
    http: aiohttp.ClientSession, server_with_keys: tuple[ServerProcess, str, str]
) -> None:
    server, key, other = server_with_keys
    mine, theirs = await log_in(http, key), await log_in(http, other)
    function_id = await deploy_with(http, mine)
    ws_session, ws = await open_tail(server, mine, function_id)
    try:
        listed = json.loads(vortex_keys(server, "list", "--json").stdout)["keys"]
        key_id = next(k["id"] for k in listed if k["id"] == mine.body["key_id"])
        assert vortex_keys(server, "revoke", key_id).returncode == 0
        server.wait_for_keys(other, refused=[key])
        assert await status_of(http, "GET", "/functions", headers=mine.headers()) == (
            401,
            "unauthorized",
        )
        message = await asyncio.wait_for(ws.receive(), 15)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4401, message
    finally:
        await ws.close()
        await ws_session.close()
    # Another key's session goes on; a new login with the revoked key is refused.
    assert await status_of(http, "GET", "/functions", headers=theirs.headers()) == (200, None)
    assert await status_of(http, "POST", "/session", json={"key": key}) == (401, "unauthorized")


async def test_over_https_the_cookies_are_secure_and_host_only(
    http: aiohttp.ClientSession, server_with_keys: tuple[ServerProcess, str, str]
) -> None:
    server, key, _ = server_with_keys
    for https in (
        {"X-Forwarded-Proto": "https"},  # a proxy that ends TLS
        {"Origin": f"https://127.0.0.1:{server.port}", "Host": f"127.0.0.1:{server.port}"},
    ):
        logged_in = await log_in(http, key, headers=https)
        assert set(logged_in.cookies) == {"__Host-vortex_session", "__Host-vortex_csrf"}
        for cookie in logged_in.cookies.values():
            assert cookie["secure"] is True and cookie["path"] == "/" and cookie["domain"] == ""
        assert await status_of(http, "GET", "/functions", headers=logged_in.headers()) == (
            200,
            None,
        )
        async with http.delete("/session", headers={**logged_in.headers(), **https}) as response:
            cleared = set_cookies(response)
        assert set(cleared) == {"__Host-vortex_session", "__Host-vortex_csrf"}
        assert all(c["secure"] is True and c["max-age"] == "0" for c in cleared.values())


async def test_a_server_without_keys_needs_no_login(server: ServerProcess) -> None:
    async with aiohttp.ClientSession(
        base_url=server.url, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        async with http.post("/session", json={"key": "vx_acme_" + "x" * 43}) as response:
            assert response.status == 400
            assert "needs no login" in (await response.json())["error"]["message"]
            assert "Set-Cookie" not in response.headers
        async with http.get("/session") as response:
            assert await response.json() == {
                "namespace": "default",
                "scope": "all",
                "key_id": None,
                "session": False,
                "csrf_token": None,
                "expires_at": None,
            }
