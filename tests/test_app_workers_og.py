"""workers-og on Vortex: the app of tests/apps/workers-og, written as its docs show, bundled with
the real package by ``vortex deploy``, which uploads the package's two WebAssembly files (yoga
for satori's layout, resvg for the PNG) beside the bundle, as wrangler's CompiledWasm rule does.

It ran unchanged: the SVG and the PNG are byte for byte what workerd 2026-11-17 makes of the
same bundle and font. It guards what no other app reached: an npm package's own .wasm
imports, compiled and instantiated at run time, with a few hundred kilobytes of image work.
The font is @fontsource/inter's, served by the test as Google Fonts would serve it.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess
from tests.threaded_app import app_in_thread

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

FONT = "@fontsource/inter/files/inter-latin-400-normal.woff"


@pytest.fixture(scope="module")
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return apps_project(request, tmp_path_factory)


@pytest.fixture(scope="module")
def fonts(project: Path) -> Iterator[int]:
    font = (project / "node_modules" / FONT).read_bytes()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=font, content_type="font/woff")

    app = web.Application()
    app.router.add_get("/inter.woff", serve)
    with app_in_thread(app) as port:
        yield port


@pytest.fixture(scope="module")
def og(project: Path, fonts: int, edge: ServerProcess) -> Any:
    return deploy_app(
        edge,
        project / "workers-og",
        *("index.mjs", "--name", "workers-og-app", "--allow-host", "127.0.0.1"),
        *("--env", f"FONT_URL=http://127.0.0.1:{fonts}/inter.woff"),
    )


async def test_workers_og_renders_svg_and_png(og: Any) -> None:
    async with aiohttp.ClientSession() as client:
        svg = await call(client, "GET", og("/?format=svg&title=Vortex"))
        png = await call(client, "GET", og("/?title=Vortex"))
        other = await call(client, "GET", og("/?title=Another"))
    assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    assert svg.text.startswith('<svg width="600" height="315" viewBox="0 0 600 315"')
    assert 'fill="#0b3d91"' in svg.text and "<path" in svg.text  # the title's glyphs, as paths
    assert png.status == 200 and png.headers["Content-Type"] == "image/png"
    assert png.body[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png.body[16:24]) == (600, 315)  # IHDR: width, height
    assert other.body != png.body and other.body[:8] == png.body[:8]
