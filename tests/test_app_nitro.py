"""A Nitro app on Vortex (the server engine of Nuxt): the project of tests/frameworks/nitro,
built as Nitro's docs show for Workers with the ``cloudflare_module`` preset (``nitro build``,
~4 s), and deployed by ``vortex deploy`` from the wrangler.toml of those docs (``main``
``.output/server/index.mjs``, ``assets`` ``.output/public``).

Its deploy stopped before Vortex had ``node:timers``: unenv's preset for Cloudflare, which the
preset builds with, makes every chunk import it, as workerd's nodejs_compat has it. Side by
side with workerd 2026-11-17 on the same bundle, the bodies of these routes are byte for byte
the same.
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
    folder = framework_app(request, tmp_path_factory, "nitro")
    build_app(folder, "nitro", "build")
    return folder


@pytest.fixture(scope="module")
def app(built: Path, server: ServerProcess) -> Any:
    return deploy_app(server, built, "--name", "nitro-app")


async def test_routes_render_with_the_cloudflare_env(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        pages = [await call(client, "GET", app("/?name=Ann")) for _ in range(4)]
        robots = await call(client, "GET", app("/robots.txt"))
    for page in pages:
        assert page.status == 200 and page.headers["x-nitro-middleware"] == "yes"
        assert page.text == "<h1>Hello, Ann!</h1><p>Hello</p>"  # GREETING of wrangler.toml
    assert robots.text == "User-agent: *\n" and "x-vortex-run-id" not in robots.headers
    assert robots.headers["Cache-Control"] == "public, max-age=3600"  # routeRules → _headers


async def test_api_routes_answer_json_and_errors(app: Any) -> None:
    async with aiohttp.ClientSession() as client:
        item = await call(client, "GET", app("/api/items/42?q=x"))
        created = await call(client, "POST", app("/api/items/7"), json={"a": [1, 2]})
        missing = await call(client, "GET", app("/api/items/missing"))
    # useStorage's memory driver keeps "42" and gives it back parsed, as unstorage does
    assert item.json() == {"id": "42", "q": "x", "last": 42}
    assert created.status == 201 and created.json() == {"id": "7", "received": {"a": [1, 2]}}
    assert missing.status == 404
    assert missing.json() == {
        "error": True,
        "url": app("/api/items/missing"),
        "statusCode": 404,
        "statusMessage": "No such item",
        "message": "No such item",
    }


async def test_node_timers_and_a_streamed_body(app: Any) -> None:
    chunks: list[tuple[float, bytes]] = []
    async with aiohttp.ClientSession() as client:
        started = time.monotonic()
        async with client.get(app("/later")) as response:
            assert response.status == 200 and response.headers["x-waited"] == "true"
            async for chunk in response.content.iter_any():
                chunks.append((time.monotonic() - started, chunk))
    assert b"".join(chunk for _, chunk in chunks) == b"first\nsecond\n"
    first_at = next(at for at, chunk in chunks if b"first" in chunk)
    second_at = next(at for at, chunk in chunks if b"second" in chunk)
    assert second_at - first_at > 0.2, chunks
