"""Deploying a site's static assets through the API, as ``vortex deploy`` does: hash, ask
which hashes are missing, upload those, deploy with the manifest."""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp

SITE = {
    "/index.html": b"<h1>home</h1>",
    "/about.html": b"<h1>about</h1>",
    "/blog/index.html": b"<h1>blog</h1>",
    "/blog/first.html": b"<h1>first post</h1>",
    "/blog/404.html": b"<h1>no such post</h1>",
    "/404.html": b"<h1>not found</h1>",
    "/style.css": b"body { color: red }",
    "/app.js": b"console.log(1)",
    "/data.json": b'{"a": 1}',
    "/logo.svg": b"<svg/>",
    "/img/dot.png": b"\x89PNG\r\n\x1a\n....",
    "/robots.txt": b"User-agent: *",
}

API_WORKER = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/api/')) return Response.json({ api: url.pathname });
    if (url.pathname === '/via-binding') {
      const page = await env.ASSETS.fetch(new URL('/about', request.url));
      return new Response('binding:' + page.status + ':' + await page.text(), page);
    }
    return env.ASSETS.fetch(request);
  },
};
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload(http: aiohttp.ClientSession, files: dict[str, bytes]) -> dict[str, Any]:
    """The manifest of ``files``, each missing one uploaded first."""
    by_hash = {sha(data): data for data in files.values()}
    async with http.post("/assets/missing", json={"hashes": sorted(by_hash)}) as response:
        assert response.status == 200, await response.text()
        missing = (await response.json())["missing"]
    for digest in missing:
        async with http.put(f"/assets/{digest}", data=by_hash[digest]) as response:
            assert response.status == 201, await response.text()
    return {path: {"hash": sha(data), "size": len(data)} for path, data in files.items()}


async def deploy_site(
    http: aiohttp.ClientSession,
    name: str,
    files: dict[str, bytes] | None = None,
    code: str = API_WORKER,
    **config: Any,
) -> dict[str, Any]:
    manifest = await upload(http, SITE if files is None else files)
    body = {
        "name": name,
        "filename": "index.mjs",
        "code": code,
        "assets": {"manifest": manifest, "config": {"binding": "ASSETS", **config}},
    }
    async with http.post("/deploy", json=body) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 200, answer
        return answer
