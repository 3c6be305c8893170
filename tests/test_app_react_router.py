"""A React Router v7 app (framework mode) on Vortex: the project of tests/frameworks/react-router,
written as React Router's Cloudflare template is (workers/app.ts with ``createRequestHandler``,
Cloudflare's Vite plugin, app/entry.server.tsx streaming with ``renderToReadableStream``),
built with ``react-router build`` (~6 s) and deployed by ``vortex deploy`` in the project's
folder, as ``wrangler deploy`` would be run there.

Its deploy failed before Vortex was fixed: the build points .wrangler/deploy/config.json at the
configuration it wrote (build/server/wrangler.json: the built entry with ``no_bundle`` and its
chunks beside it, ``assets`` in build/client), which wrangler deploys instead of the project's
own; Vortex bundled the project's source, with its ``virtual:`` import. Side by side with
workerd 2026-11-17 on the same bundle, the pages, the action's page, the ``.data`` requests of
client navigation and the resource routes are byte for byte the same.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.npm_apps import build_app, call, deploy_app, framework_app
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(scope="module")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = framework_app(request, tmp_path_factory, "react-router")
    build_app(folder, "react-router", "build")
    return folder


@pytest.fixture(scope="module")
def app(built: Path, server: ServerProcess) -> Any:
    return deploy_app(server, built, "--name", "react-router-app")


async def test_pages_render_with_the_loader_data_of_the_cloudflare_env(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        pages = [await call(client, "GET", app("/?name=Ann")) for _ in range(4)]
        data = await call(client, "GET", app("/_root.data?name=Bo"))
        missing = await call(client, "GET", app("/no/such/page"))
    for page in pages:
        assert page.status == 200 and page.headers["Content-Type"] == "text/html"
        assert page.text.startswith("<!DOCTYPE html>")
        assert "<title>New React Router App</title>" in page.text
        assert "<h1>Hello from Cloudflare<!-- -->, <!-- -->Ann<!-- -->!</h1>" in page.text
    # the loader data a client navigation asks for, in turbo-stream
    assert data.status == 200 and data.headers["Content-Type"] == "text/x-script"
    assert '"Hello from Cloudflare","name","Bo"' in data.text
    assert missing.status == 404 and '<h1 class="error">404 Not Found</h1>' in missing.text


async def test_the_client_build_comes_from_the_assets(app: Any, built: Path) -> None:
    entry = next((built / "build/client/assets").glob("entry.client-*.js"))
    async with aiohttp.ClientSession() as client:
        script = await call(client, "GET", app(f"/assets/{entry.name}"))
        robots = await call(client, "GET", app("/robots.txt"))
        config = await call(client, "GET", app("/wrangler.json"))
    assert script.status == 200 and script.body == entry.read_bytes()
    assert "x-vortex-run-id" not in script.headers
    assert robots.text == "User-agent: *\n"
    assert config.status == 404  # the build's .assetsignore leaves it out


async def test_an_action_answers_the_form_post(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        page = await call(client, "POST", app("/?index"), data={"message": "hi"})
    assert page.status == 200 and '<p class="echo">HI</p>' in page.text


async def test_resource_routes_answer_json(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        item = await call(client, "GET", app("/api/items/42?q=x"))
        created = await call(client, "POST", app("/api/items/7"), json={"a": [1, 2]})
        missing = await call(client, "GET", app("/api/items/missing"))
    assert item.json() == {"id": "42", "q": "x"}
    assert created.status == 201 and created.json() == {"id": "7", "received": {"a": [1, 2]}}
    assert missing.status == 404 and missing.json() == {"message": "No such item"}


async def test_a_deferred_loader_value_is_rendered_with_its_stream(app: Any) -> None:
    # This app's shell waits for the promise (its first byte leaves after 400 ms, on workerd
    # too); the value is in the page and in the turbo-stream data the client resumes with.
    async with aiohttp.ClientSession() as client:
        page = await call(client, "GET", app("/deferred?ms=400"))
    assert page.status == 200 and page.text.endswith("</body></html>")
    assert '<p class="now">at once</p><!--$--><p class="later">after 400 ms</p>' in page.text
    assert 'streamController.enqueue("P10:[\\"after 400 ms\\"]\\n");' in page.text
