"""@hono/zod-openapi and hono/cache on Vortex: the app of tests/apps/zod-openapi, written as their
docs show, bundled with the real packages by ``vortex deploy``.

It ran unchanged. It guards what the other Hono apps do not reach: zod schemas validating path
params and JSON bodies with zod's own error answers, the OpenAPI document generated from them
(byte for byte workerd's for the same bundle), and Hono's cache middleware, whose ``put`` into
``caches.open(name)`` is awaited (``wait: true``) on Vortex's Cache API, a no-op as on workers.dev
(docs/http-functions.md): every request reaches the handler, as on workerd with no cache.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import aiohttp
import pytest

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(scope="module")
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: ServerProcess
) -> Any:
    folder = apps_project(request, tmp_path_factory) / "zod-openapi"
    return deploy_app(server, folder, "index.mjs", "--name", "zod-openapi-app")


async def test_zod_openapi_validates_params_and_bodies(api: Any) -> None:
    async with aiohttp.ClientSession() as client:
        user = await call(client, "GET", api("/users/12345"))
        short = await call(client, "GET", api("/users/1"))
        made = await call(client, "POST", api("/users"), json={"name": "Ada", "age": 36})
        missing = await call(client, "POST", api("/users"), json={"name": "Ada"})
    assert (user.status, user.json()) == (200, {"id": "12345", "age": 20, "name": "Ultra-man"})
    assert short.status == 400 and short.json()["success"] is False
    issue = json.loads(short.json()["error"]["message"])[0]
    assert (issue["code"], issue["path"], issue["minimum"]) == ("too_small", ["id"], 3)
    assert (made.status, made.json()) == (201, {"id": "new", "name": "Ada", "age": 36})
    assert missing.status == 400
    assert json.loads(missing.json()["error"]["message"])[0]["path"] == ["age"]


async def test_zod_openapi_document(api: Any) -> None:
    async with aiohttp.ClientSession() as client:
        doc = (await call(client, "GET", api("/doc"))).json()
    assert doc["info"] == {"version": "1.0.0", "title": "My API"}
    assert doc["components"]["schemas"]["User"]["required"] == ["id", "name", "age"]
    [param] = doc["paths"]["/users/{id}"]["get"]["parameters"]
    assert param == {
        "schema": {"type": "string", "minLength": 3, "example": "1212121"},
        "required": True,
        "name": "id",
        "in": "path",
    }
    body = doc["paths"]["/users"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["properties"]) == {"name", "age"}


async def test_hono_cache_middleware_runs_on_the_no_op_cache(api: Any) -> None:
    async with aiohttp.ClientSession() as client:
        first = await call(client, "GET", api("/cached/ada"))
        again = await call(client, "GET", api("/cached/ada"))
    assert first.status == again.status == 200
    assert first.text.startswith("hello ada at ")
    assert first.headers["Cache-Control"] == "max-age=3600"
    assert again.text.startswith("hello ada at ") and again.text != first.text  # never a hit
