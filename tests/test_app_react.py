"""React server rendering on Vortex: the app of tests/apps/react, written as React's docs show
``renderToReadableStream`` for Web Streams runtimes, bundled with the real react-dom by
``vortex deploy`` (the ``workerd`` condition picks react-dom/server's edge build, and the
tsconfig's ``"jsx": "react-jsx"`` the automatic runtime, as wrangler does).

It ran unchanged: this guards what no other app reached, a stream the app's code keeps writing
after the response has started, in chunks that leave as they are written. Side by side with
workerd 2026-11-17 on the same bundle, the bodies of these routes are byte for byte the same,
and the chunks leave at the same moments (the shell at once, the boundary when its data comes).
"""

from __future__ import annotations

import shutil
import time
from typing import Any

import aiohttp
import pytest

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

SHELL = (
    '<!DOCTYPE html><html lang="en"><head><title>Post</title></head><body><h1>Post</h1>'
    '<!--$?--><template id="B:0"></template><p>Loading comments...</p><!--/$-->'
)
COMMENTS = '<div hidden id="S:0"><ul><li>first!</li><li>about Post</li></ul></div>'


@pytest.fixture(scope="module")
def react(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: ServerProcess
) -> Any:
    folder = apps_project(request, tmp_path_factory) / "react"
    return deploy_app(server, folder, "index.jsx", "--name", "react-app")


async def test_react_streams_the_shell_before_the_suspended_data(react: Any) -> None:
    chunks: list[tuple[float, bytes]] = []
    async with aiohttp.ClientSession() as client:
        started = time.monotonic()
        async with client.get(react("/?delay=400")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            async for chunk in response.content.iter_any():
                chunks.append((time.monotonic() - started, chunk))
    body = b"".join(chunk for _, chunk in chunks).decode()
    assert body.startswith(SHELL) and body.endswith("</body></html>")
    assert COMMENTS in body and '$RC("B:0","S:0")' in body
    # the shell (with the fallback) was out well before the comments came, 400 ms later
    shell_at = next(at for at, chunk in chunks if b"Loading comments" in chunk)
    comments_at = next(at for at, chunk in chunks if b"first!" in chunk)
    assert comments_at - shell_at > 0.3, chunks


async def test_react_all_ready_and_render_to_string(react: Any) -> None:
    async with aiohttp.ClientSession() as client:
        whole = await call(client, "GET", react("/crawler?title=Hi"))
        fragment = await call(client, "GET", react("/fragment?title=%3Cb%3E"))
    assert whole.text == (
        '<!DOCTYPE html><html lang="en"><head><title>Hi</title></head><body><h1>Hi</h1>'
        "<!--$--><ul><li>first!</li><li>about Hi</li></ul><!--/$--></body></html>"
    )
    assert fragment.text == '<p class="note">Hi <!-- -->&lt;b&gt;</p>'
