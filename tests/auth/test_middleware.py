"""The API key middleware on a small application (no pool): who passes, who gets which error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.fixtures.redis import RedisServer
from vortex.auth import ApiKeys
from vortex.auth.local import FileKeyStore
from vortex.auth.redis import RedisKeyStore
from vortex.config import Settings
from vortex.http.auth import principal_of, require_api_key
from vortex.http.keys import API_KEYS, AUTH_OPEN_WITHOUT_KEYS, SETTINGS
from vortex.http.middleware import json_errors

Client = TestClient[web.Request, web.Application]


async def whoami(request: web.Request) -> web.Response:
    principal = principal_of(request)
    return web.json_response(
        {"namespace": principal.namespace, "scope": principal.scope, "key": principal.key_id}
    )


async def public(request: web.Request) -> web.Response:
    return web.json_response({"public": True})


async def moved(request: web.Request) -> web.Response:
    """Stands for /fn/'s redirect to the function's own origin on the functions listener."""
    return web.Response(status=308, headers={"Location": "http://x.localhost:8787/"})


async def tail(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=["vortex"])
    await ws.prepare(request)
    await ws.send_json({"namespace": principal_of(request).namespace})
    await ws.close()
    return ws


def make_app(keys: ApiKeys, *, open_without_keys: bool = True) -> web.Application:
    app = web.Application(middlewares=[json_errors, require_api_key])
    app[SETTINGS] = Settings()
    app[API_KEYS] = keys
    app[AUTH_OPEN_WITHOUT_KEYS] = open_without_keys
    app.router.add_get("/functions", whoami)
    app.router.add_post("/deploy", whoami)
    app.router.add_get("/metrics", whoami)
    app.router.add_get("/health", public)
    app.router.add_get("/openapi.json", public)
    app.router.add_get("/static/{path:.+}", public)
    app.router.add_get("/ws/{id}", tail)
    app.router.add_route("*", "/fn/{id}/{path:.*}", moved)
    return app


ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def keys(tmp_path: Path) -> AsyncIterator[ApiKeys]:
    store = ApiKeys(FileKeyStore(tmp_path), cache_seconds=0)
    yield store
    await store.close()


async def error_of(response: aiohttp.ClientResponse) -> tuple[int, str]:
    body: dict[str, Any] = await response.json()
    return response.status, body["error"]["code"]


async def test_no_keys_on_loopback_is_single_tenant(
    aiohttp_client: ClientFactory, keys: ApiKeys
) -> None:
    client = await aiohttp_client(make_app(keys))
    response = await client.get("/functions")
    assert response.status == 200
    assert await response.json() == {"namespace": "default", "scope": "all", "key": None}


async def test_no_keys_beyond_loopback_refuses(
    aiohttp_client: ClientFactory, keys: ApiKeys
) -> None:
    client = await aiohttp_client(make_app(keys, open_without_keys=False))
    refused = await client.get("/functions")
    assert await error_of(refused) == (401, "unauthorized")
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="vortex"'
    healthy = await client.get("/health")
    assert healthy.status == 200
    assert "WWW-Authenticate" not in healthy.headers


async def test_with_keys_every_api_route_needs_one(
    aiohttp_client: ClientFactory, keys: ApiKeys
) -> None:
    key, token = await keys.create("acme")
    client = await aiohttp_client(make_app(keys))
    for method, path in [("GET", "/functions"), ("POST", "/deploy"), ("GET", "/nowhere")]:
        response = await client.request(method, path)
        assert await error_of(response) == (401, "unauthorized"), path
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="vortex"', path
    for header in [f"Bearer {token}x", "Bearer", f"Basic {token}", token, "Bearer vx_acme_"]:
        response = await client.get("/functions", headers={"Authorization": header})
        assert await error_of(response) == (401, "unauthorized"), header
        # RFC 9110: a 401 names the scheme it takes.
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="vortex"', header
    for header in [f"Bearer {token}", f"bearer   {token} "]:
        response = await client.get("/functions", headers={"Authorization": header})
        assert response.status == 200
        assert await response.json() == {"namespace": "acme", "scope": "functions", "key": key.id}


async def test_public_routes(aiohttp_client: ClientFactory, keys: ApiKeys) -> None:
    await keys.create("acme")
    client = await aiohttp_client(make_app(keys))
    for path in ["/health", "/openapi.json", "/static/app.js"]:
        assert (await client.get(path)).status == 200, path
    # /fn/ redirects to each function's public face (the functions listener, which takes no
    # key): no key for the redirect either, whatever the method.
    for method in ["GET", "POST", "DELETE"]:
        response = await client.request(method, "/fn/x/hook", data=b"{}", allow_redirects=False)
        assert response.status == 308, method
    # Other routes take no key for GET only.
    assert (await client.post("/health")).status == 401


async def test_scopes(aiohttp_client: ClientFactory, keys: ApiKeys) -> None:
    _, token = await keys.create("acme")
    _, metrics_token = await keys.create(None, scope="metrics")
    client = await aiohttp_client(make_app(keys))

    def bearer(value: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {value}"}

    assert (await client.get("/metrics", headers=bearer(metrics_token))).status == 200
    assert await error_of(await client.get("/metrics", headers=bearer(token))) == (
        403,
        "forbidden",
    )
    wrong_scope = await client.get("/functions", headers=bearer(metrics_token))
    assert await error_of(wrong_scope) == (403, "forbidden")
    assert "WWW-Authenticate" not in wrong_scope.headers  # the key was fine: only 401 asks


async def test_websocket_by_header_or_subprotocol(
    aiohttp_client: ClientFactory, keys: ApiKeys
) -> None:
    _, token = await keys.create("acme")
    client = await aiohttp_client(make_app(keys))
    async with client.ws_connect("/ws/x", headers={"Authorization": f"Bearer {token}"}) as ws:
        assert await ws.receive_json() == {"namespace": "acme"}
    async with client.ws_connect("/ws/x", protocols=["vortex", f"bearer.{token}"]) as ws:
        assert ws.protocol == "vortex"
        assert await ws.receive_json() == {"namespace": "acme"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await client.ws_connect("/ws/x")
    assert caught.value.status == 401


async def test_revoked_key_and_last_key_revoked(
    aiohttp_client: ClientFactory, keys: ApiKeys
) -> None:
    key, token = await keys.create("acme")
    client = await aiohttp_client(make_app(keys, open_without_keys=False))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/functions", headers=headers)).status == 200
    await keys.revoke(key.id)
    # The last key gone, a server beyond loopback closes rather than opens.
    assert await error_of(await client.get("/functions", headers=headers)) == (
        401,
        "unauthorized",
    )
    assert await error_of(await client.get("/functions")) == (401, "unauthorized")


async def test_store_outage_is_503(
    aiohttp_client: ClientFactory, redis_server: RedisServer
) -> None:
    keys = ApiKeys(RedisKeyStore(redis_server.url), cache_seconds=0)
    try:
        _, token = await keys.create("acme")
        client = await aiohttp_client(make_app(keys))
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/functions", headers=headers)).status == 200
        redis_server.stop()
        response = await client.get("/functions", headers=headers)
        assert await error_of(response) == (503, "auth_unavailable")
        assert (await client.get("/health")).status == 200
    finally:
        await keys.close()
