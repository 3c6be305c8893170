"""A SvelteKit app on Vortex: the project of tests/frameworks/sveltekit, built as SvelteKit's
docs show with @sveltejs/adapter-cloudflare (``vite build``, ~5 s), then deployed by ``vortex
deploy`` from its wrangler.jsonc as ``wrangler deploy`` takes it: ``main`` is the adapter's
``_worker.js``, ``assets`` its output folder (the client's chunks, static files, prerendered
pages), bound as ``env.ASSETS``.

Two things failed before Vortex was fixed: the first request on each host waited until its
wall limit (the adapter awaits ``server.init()``, a promise chain its module's top level
starts, whose jobs the warm-up dropped), and ``getRequestEvent()`` after an await threw (the
bundled ``import("node:async_hooks")`` never ran, so SvelteKit had no AsyncLocalStorage).
Side by side with workerd 2026-11-17 on the same bundle, the bodies of the pages, the form
action's and the API routes' answers are byte for byte the same.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.npm_apps import build_app, call, deploy_app, framework_app
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(scope="module")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = framework_app(request, tmp_path_factory, "sveltekit")
    build_app(folder, "vite", "build")
    return folder


@pytest.fixture(scope="module")
def app(built: Path, server: ServerProcess) -> Any:
    return deploy_app(server, built, "--name", "sveltekit-app")


async def test_pages_render_on_the_server_with_the_platform_env(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        # The first request of each host meets its warm instance: two hosts, four requests.
        timeout = aiohttp.ClientTimeout(total=5)
        pages = [await call(client, "GET", app("/?name=Ann"), timeout=timeout) for _ in range(4)]
        guest = await call(client, "GET", app("/"))
        missing = await call(client, "GET", app("/no/such/page"))
    for page in pages:
        assert page.status == 200, page.text
        assert page.headers["x-hooks"] == "sveltekit"
        assert "<h1>Hello, Ann!</h1>" in page.text  # GREETING from wrangler.jsonc's vars
        assert 'data:{greeting:"Hello",name:"Ann"}' in page.text  # hydration data
    assert "<h1>Hello, guest!</h1>" in guest.text
    assert missing.status == 404 and missing.headers["x-sveltekit-page"] == "true"
    assert "<h1>404</h1>" in missing.text


async def test_assets_and_prerendered_pages_come_from_the_assets(app: Any, built: Path) -> None:
    chunk = next((built / ".svelte-kit/cloudflare/_app/immutable/entry").glob("start.*.js"))
    async with aiohttp.ClientSession() as client:
        about = await call(client, "GET", app("/about"))
        slash = await call(client, "GET", app("/about/"))
        robots = await call(client, "GET", app("/robots.txt"))
        script = await call(client, "GET", app(f"/_app/immutable/entry/{chunk.name}"))
        version = await call(client, "GET", app("/_app/version.json"))
    assert about.status == 200 and "<p>A prerendered page.</p>" in about.text
    assert "x-vortex-run-id" not in about.headers  # served before the code, as Workers do
    assert slash.status == 307 and slash.headers["Location"] == "/about"
    assert robots.text == "hello from static\n"
    assert script.status == 200 and script.body == chunk.read_bytes()
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    # the adapter's _headers: a year for the immutable chunks, no-cache for the rest of /_app
    assert script.headers["Cache-Control"] == "public, immutable, max-age=31536000"
    assert version.headers["Cache-Control"] == "no-cache"
    assert version.headers["X-Robots-Tag"] == "noindex"
    assert "version" in version.json()


async def test_api_routes_answer_json_and_errors(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        item = await call(client, "GET", app("/api/items/42?q=x"), headers={"User-Agent": "t"})
        created = await call(client, "POST", app("/api/items/7"), json={"a": [1, 2]})
        missing = await call(client, "GET", app("/api/items/missing"))
    assert item.json() == {
        "id": "42",
        "q": "x",
        "agent": "t",
        "colo": "object",  # platform.cf
        "waitUntil": "function",  # platform.ctx
    }
    assert created.status == 201 and created.json() == {"id": "7", "received": {"a": [1, 2]}}
    assert missing.status == 404 and missing.json() == {"message": "No such item"}


async def test_get_request_event_after_an_await_finds_the_request(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        guest = await call(client, "GET", app("/api/whoami"))
        ann = await call(client, "GET", app("/api/whoami"), headers={"Cookie": "user=ann"})
    assert guest.json() == {"whoami": "guest at /api/whoami"}
    assert ann.json() == {"whoami": "ann at /api/whoami"}


async def test_a_form_action_sets_a_cookie_and_renders_its_result(app: Any) -> None:
    origin = app("/").rstrip("/")
    async with aiohttp.ClientSession() as client:
        page = await call(
            client,
            "POST",
            app("/"),
            data={"message": "hi"},
            headers={"Accept": "text/html", "Origin": origin},
        )
        enhanced = await call(
            client, "POST", app("/"), data={"message": "yo"}, headers={"Origin": origin}
        )
        forged = await call(
            client,
            "POST",
            app("/"),
            data={"message": "x"},
            headers={"Accept": "text/html", "Origin": "http://evil.example"},
        )
    assert page.status == 200 and '<p class="echo">HI</p>' in page.text
    assert page.headers["Set-Cookie"] == "user=hi; Path=/; HttpOnly; Secure; SameSite=Lax"
    # use:enhance posts with Accept: */*: the result as devalue's JSON
    assert enhanced.json() == {"type": "success", "status": 200, "data": '[{"echoed":1},"YO"]'}
    assert forged.status == 403  # SvelteKit's CSRF check compares Origin with request.url


async def test_a_promise_in_load_data_streams_after_the_page(app: Any) -> None:
    chunks: list[tuple[float, bytes]] = []
    async with aiohttp.ClientSession() as client:
        started = time.monotonic()
        async with client.get(app("/slow?ms=400")) as response:
            assert response.status == 200
            async for chunk in response.content.iter_any():
                chunks.append((time.monotonic() - started, chunk))
    body = b"".join(chunk for _, chunk in chunks).decode()
    assert '<p class="now">at once</p>' in body and '<p class="wait">waiting</p>' in body
    assert body.rstrip().endswith('.resolve(1, () => ["after 400 ms"])</script>')
    page_at = next(at for at, chunk in chunks if b"at once" in chunk)
    later_at = next(at for at, chunk in chunks if b"after 400 ms" in chunk)
    assert later_at - page_at > 0.3, chunks
