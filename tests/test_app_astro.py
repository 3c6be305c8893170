"""An Astro SSR app on Vortex: the project of tests/frameworks/astro, built as Astro's docs show
with @astrojs/cloudflare (``output: "server"``, ``astro build``, ~4 s), then deployed by
``vortex deploy`` from its wrangler.jsonc as ``wrangler deploy`` takes it: ``main`` is
``dist/_worker.js/index.js``, ``assets`` the ``dist`` folder (whose ``.assetsignore`` leaves out
the worker), bound as ``env.ASSETS``.

Its deploy stopped before Vortex was fixed: the adapter's image service bundles sharp, whose
detect-libc requires ``child_process`` and ``fs``, which wrangler's nodejs_compat takes for
built-ins; they are left to fail if they run, and an SSR page never runs them. Side by side
with workerd 2026-11-17 on the same bundle, pages, API routes, the middleware's header and the
cookies are byte for byte the same.
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
    folder = framework_app(request, tmp_path_factory, "astro")
    build_app(folder, "astro", "build")
    return folder


@pytest.fixture(scope="module")
def app(built: Path, server: ServerProcess) -> Any:
    return deploy_app(server, built, "--name", "astro-app")


async def test_pages_render_on_the_server_with_the_runtime_env(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        pages = [
            await call(client, "GET", app("/?name=Ann"), headers={"User-Agent": "t"})
            for _ in range(4)  # both hosts, their warm instances first
        ]
        missing = await call(client, "GET", app("/no/such/page"))
    for page in pages:
        assert page.status == 200
        assert page.headers["x-middleware"] == "astro"
        assert page.text == (
            '<!DOCTYPE html><html lang="en"> <head><meta charset="utf-8"><title>Home</title>'
            '</head> <body> <h1>Hello, Ann!</h1> <p class="agent">t</p> </body></html>'
        )
    assert missing.status == 404 and "<title>404: Not Found</title>" in missing.text


async def test_prerendered_pages_and_public_files_come_from_the_assets(
    app: Any, built: Path
) -> None:
    async with aiohttp.ClientSession() as client:
        about = await call(client, "GET", app("/about/"))
        bare = await call(client, "GET", app("/about"))
        robots = await call(client, "GET", app("/robots.txt"))
        worker = await call(client, "GET", app("/_worker.js/index.js"))
    assert about.status == 200 and "x-vortex-run-id" not in about.headers
    assert about.body == (built / "dist/about/index.html").read_bytes()
    assert bare.status == 307 and bare.headers["Location"] == "/about/"
    assert robots.text == "User-agent: *\n"
    assert worker.status == 404  # .assetsignore keeps the worker's code out of the assets


async def test_api_routes_answer_json(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        item = await call(client, "GET", app("/api/items/42?q=x"))
        created = await call(client, "POST", app("/api/items/7"), json={"a": [1, 2]})
        missing = await call(client, "GET", app("/api/items/missing"))
    assert item.json() == {"id": "42", "q": "x", "greeting": "Hello", "waitUntil": "function"}
    assert created.status == 201 and created.json() == {"id": "7", "received": {"a": [1, 2]}}
    assert missing.status == 404 and missing.text == "No such item"


async def test_middleware_reads_and_the_page_sets_cookies(app: Any) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        first = await call(client, "GET", app("/counter"))
        fifth = await call(client, "GET", app("/counter"), headers={"Cookie": "visits=4"})
    assert first.text == "<!DOCTYPE html><p>visit 1</p>"
    assert first.headers["Set-Cookie"] == "visits=1; Path=/; HttpOnly"
    assert fifth.text == "<!DOCTYPE html><p>visit 5</p>"
    assert fifth.headers["Set-Cookie"] == "visits=5; Path=/; HttpOnly"


async def test_sessions_keep_their_data_in_the_functions_kv(app: Any) -> None:
    # The adapter's sessions want a KV binding: the project names Vortex's one, KV
    # (sessionKVBindingName), as its wrangler.jsonc binds it.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        first = await call(client, "GET", app("/cart?add=a"))
        session = first.headers["Set-Cookie"].split(";")[0]
        assert session.startswith("astro-session=")
        second = await call(client, "GET", app("/cart?add=b"), headers={"Cookie": session})
        other = await call(client, "GET", app("/cart"))
    assert first.text == "<!DOCTYPE html><p>cart a</p>"
    assert second.text == "<!DOCTYPE html><p>cart a,b</p>"
    assert other.text == "<!DOCTYPE html><p>cart </p>"
