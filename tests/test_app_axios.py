"""axios on Vortex: the app of tests/apps/axios, written as axios's docs show, bundled with the
real package by ``vortex deploy``, calling an API the test serves.

``vortex deploy`` bundled for esbuild's platform "neutral", which ignores a package's "browser"
map; wrangler leaves esbuild's default, "browser", which follows it. So axios's Node http
adapter (node:http, node:https, node:zlib, node:stream...) stayed in the bundle and the deploy
was refused; with wrangler's platform it is swapped for axios's stub, as on workerd, whose
answer to the same bundle is this one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.npm_apps import apps_project, call, cli_deploy
from tests.server import ServerProcess
from tests.threaded_app import app_in_thread

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def _api(seen: list[tuple[str, str, str | None, Any]]) -> web.Application:
    async def items(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        seen.append((request.method, request.path_qs, request.headers.get("x-app"), body))
        if request.method == "POST":
            return web.json_response({"id": 7, **body}, status=201)
        return web.json_response([{"id": 1}, {"id": 2}])

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"error": "no such item"}, status=404)

    app = web.Application()
    app.router.add_route("*", "/items", items)
    app.router.add_get("/items/{id}", missing)
    return app


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[int, list[tuple[str, str, str | None, Any]]]]:
    seen: list[tuple[str, str, str | None, Any]] = []
    with app_in_thread(_api(seen)) as port:
        yield port, seen


async def test_axios_calls_an_api_with_the_fetch_adapter(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    edge: ServerProcess,
    api: tuple[int, list[tuple[str, str, str | None, Any]]],
) -> None:
    folder = apps_project(request, tmp_path_factory) / "axios"
    answer = cli_deploy(
        edge,
        folder,
        *("index.mjs", "--name", "axios-app", "--allow-host", "127.0.0.1"),
        *("--env", f"API_URL=http://127.0.0.1:{api[0]}"),
    )
    assert answer.get("name") == "axios-app", answer
    async with aiohttp.ClientSession() as client:
        got = await call(client, "GET", edge.fn_url("axios-app", "/"))
    assert got.json() == {
        "status": 201,
        "made": {"id": 7, "name": "kettle"},
        "missing": {
            "name": "AxiosError",
            "status": 404,
            "body": {"error": "no such item"},
            "isAxiosError": True,
        },
        "listed": [{"id": 1}, {"id": 2}],
    }
    assert api[1] == [
        ("POST", "/items", "vortex", {"name": "kettle"}),
        ("GET", "/items?limit=2", None, None),
    ]
