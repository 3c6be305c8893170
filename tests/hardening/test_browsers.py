"""Other websites cannot use a browser against the API (most of all a server with no key):
no DNS rebinding (Host is checked), no cross-site request that changes something, no WebSocket
from another site, no JSON body sent as a "simple" text/plain request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.server import ServerProcess

EVIL = "http://evil.example"
CODE = {"code": "Vortex.return(1);"}


@pytest.fixture
async def plain() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _status(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, str | None]:
    async with http.request(method, url, **kwargs) as response:
        body = await response.json(content_type=None)
        error = body.get("error") if isinstance(body, dict) else None
        return response.status, error["code"] if isinstance(error, dict) else None


async def test_a_rebound_host_is_refused_without_keys(
    server: ServerProcess, plain: aiohttp.ClientSession
) -> None:
    url = f"{server.url}/functions"
    port = server.port
    for host in (f"rebound.evil.example:{port}", "rebound.evil.example", f"localhost.evil:{port}"):
        assert await _status(plain, "GET", url, headers={"Host": host}) == (403, "unknown_host")
    deploy = {"Host": "rebound.evil.example", "Origin": EVIL, "Content-Type": "text/plain"}
    assert (await _status(plain, "POST", f"{server.url}/deploy", data=b"{}", headers=deploy))[
        0
    ] == 403
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        assert (await _status(plain, "GET", url, headers={"Host": host}))[0] == 200, host
    # /health holds no data: load balancers may ask it by any name.
    health = f"{server.url}/health"
    assert (await _status(plain, "GET", health, headers={"Host": "lb.internal"}))[0] == 200


async def test_cross_site_requests_that_change_something_are_refused(
    server: ServerProcess, plain: aiohttp.ClientSession
) -> None:
    url = f"{server.url}/deploy"
    refused = [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": f"http://hello.localhost:{server.functions_port}"},
        {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
        # A function's page (hello.localhost) is same-site with a dashboard on localhost.
        {"Sec-Fetch-Site": "same-site", "Origin": f"http://hello.localhost:{server.port}"},
    ]
    for headers in refused:
        assert await _status(plain, "POST", url, json=CODE, headers=headers) == (
            403,
            "cross_site_request",
        ), headers
    allowed: list[dict[str, str]] = [
        {},  # not a browser
        {"Origin": server.url},
        {"Sec-Fetch-Site": "same-origin", "Origin": server.url},
    ]
    for headers in allowed:
        assert (await _status(plain, "POST", url, json=CODE, headers=headers))[0] == 200, headers
    # Reading stays possible across sites (the browser keeps the answer from the page).
    assert (await _status(plain, "GET", f"{server.url}/functions", headers={"Origin": EVIL}))[
        0
    ] == 200


async def test_json_routes_take_only_json(
    server: ServerProcess, plain: aiohttp.ClientSession
) -> None:
    body = b'{"code": "Vortex.return(1);"}'
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        headers = {"Content-Type": content_type}
        assert await _status(plain, "POST", f"{server.url}/deploy", data=body, headers=headers) == (
            415,
            "unsupported_media_type",
        ), content_type
    headers = {"Content-Type": "application/json; charset=utf-8"}
    assert (await _status(plain, "POST", f"{server.url}/deploy", data=body, headers=headers))[
        0
    ] == 200


async def test_websockets_from_other_sites_are_refused(
    server: ServerProcess, plain: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    async with http.post("/deploy", json=CODE) as response:
        function_id = (await response.json())["function_id"]
    url = f"{server.ws_url}/ws/{function_id}"
    for headers in ({"Origin": EVIL}, {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await plain.ws_connect(url, headers=headers)
        assert refused.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await plain.ws_connect(url, headers={"Host": "rebound.evil.example"})
    assert refused.value.status == 403
    async with plain.ws_connect(url, headers={"Origin": server.url}) as ws:
        assert not ws.closed
    async with plain.ws_connect(url) as ws:
        assert not ws.closed


async def test_the_operator_lists_the_names_the_api_answers_for(
    server_factory: Callable[..., ServerProcess], plain: aiohttp.ClientSession
) -> None:
    server = server_factory({"VORTEX_ALLOWED_HOSTS": "vortex.example, *.internal.example"})
    url = f"{server.url}/functions"
    for host in ("vortex.example", f"vortex.example:{server.port}", "a.internal.example"):
        assert (await _status(plain, "GET", url, headers={"Host": host}))[0] == 200, host
    for host in ("other.example", "internal.example.evil"):
        assert await _status(plain, "GET", url, headers={"Host": host}) == (403, "unknown_host")
    # The functions listener is not the API: its names are the functions'.
    async with plain.post(f"{server.url}/deploy", json={**CODE, "name": "hello"}) as response:
        assert response.status == 200
    async with plain.get(server.fn_url("hello")) as response:
        assert response.status != 403


CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "worker-src": "'none'",
    "form-action": "'none'",
}


def check_security_headers(headers: Any, where: str) -> None:
    csp = headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    for name, value in CSP_DIRECTIVES.items():
        assert directives.get(name) == value, (where, name, csp)
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    assert "Service-Worker-Allowed" not in headers, where


async def test_every_answer_carries_the_security_headers(
    server: ServerProcess, plain: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    """The dashboard's files had a Content-Security-Policy; JSON answers, errors, redirects and
    WebSocket handshakes had none: the API's origin is the dashboard's."""
    async with http.post("/deploy", json={**CODE, "name": "headers"}) as response:
        function_id = (await response.json())["function_id"]
    answers = [
        ("GET", "/"),
        ("GET", "/static/js/main.js"),
        ("GET", "/static/css/app.css"),
        ("GET", "/functions"),
        ("GET", f"/functions/{function_id}"),
        ("POST", f"/execute/{function_id}"),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/session"),
        ("GET", "/no/such/route"),
        ("PUT", "/deploy"),
        ("POST", "/deploy"),  # no body: 400
        ("GET", "/fn/headers/page"),  # 308 to the functions listener
        ("GET", "/functions/nothing-here"),
        ("GET", "/static/../secret"),
    ]
    for method, path in answers:
        async with plain.request(method, f"{server.url}{path}", allow_redirects=False) as response:
            check_security_headers(response.headers, f"{method} {path} ({response.status})")
    async with plain.ws_connect(f"{server.ws_url}/ws/{function_id}") as ws:
        check_security_headers(ws._response.headers, "WebSocket handshake")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await plain.ws_connect(f"{server.ws_url}/ws/{function_id}", headers={"Origin": EVIL})
    assert refused.value.headers is not None
    check_security_headers(refused.value.headers, "refused WebSocket handshake")
