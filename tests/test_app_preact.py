"""Preact on Vortex: the app of tests/apps/preact, rendered by preact-render-to-string as its
docs show (a string, an async string awaiting lazy components, a stream), bundled with the real
packages by ``vortex deploy`` with the tsconfig's ``jsxImportSource: "preact"``.

It ran unchanged: the string renders are byte for byte workerd's (2026-11-17) for the same
bundle; this guards the JSX runtime of another package than React's and Hono's, and a stream
that lazy components fill in later.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import aiohttp
import pytest

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(scope="module")
def preact(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: ServerProcess
) -> Any:
    folder = apps_project(request, tmp_path_factory) / "preact"
    return deploy_app(server, folder, "index.jsx", "--name", "preact-app")


async def test_preact_renders_to_strings(preact: Any) -> None:
    async with aiohttp.ClientSession() as client:
        page = await call(client, "GET", preact("/?name=A%3Cb"))
        lazy = await call(client, "GET", preact("/async?name=Zed"))
    assert page.text == (
        "<!doctype html><html><head><title>Hi A&lt;b</title></head><body>"
        '<h1 class="title">Hello A&lt;b</h1><button data-count="3">Count: 3</button>'
        "<ul><li>a</li><li>b</li></ul><div><b>raw</b></div>"
        '<p style="color:red;font-size:12px;">&lt;script></p></body></html>'
    )
    assert lazy.text == "<!--$s--><p>Lazy Zed</p><!--/$s-->"


async def test_preact_streams_the_fallback_then_the_lazy_part(preact: Any) -> None:
    async with aiohttp.ClientSession() as client:
        streamed = await call(client, "GET", preact("/stream?name=Q"))
    # the boundary's id is a counter of the module, so of the instance that served it
    body = re.sub(r"-\d+", "-N", streamed.text)
    assert body.startswith("<div><!--$s:-N--><i>wait</i><!--/$s:-N--></div><div hidden><script>")
    assert body.endswith(
        '<preact-island hidden data-target="-N"><p>Lazy Q</p></preact-island></div>'
    )
