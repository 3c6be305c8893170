"""A site's static assets served on the listener, and env.ASSETS, on a real server."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from multidict import CIMultiDict

from tests.assets.site import SITE, deploy_site, sha, upload
from tests.server import ServerProcess

NAVIGATE = {"Sec-Fetch-Mode": "navigate"}


def _name(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns() % 10**9}"


async def _get(
    http: aiohttp.ClientSession, url: str, method: str = "GET", **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    async with http.request(method, url, headers=headers, allow_redirects=False) as response:
        return response.status, response.headers.copy(), await response.read()


async def test_a_site_is_served_without_running_the_code(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("site")
    answer = await deploy_site(http, name, not_found_handling="404-page")
    assert answer["assets"] == {"files": len(SITE), "size": sum(map(len, SITE.values()))}
    url = server.fn_url
    status, headers, body = await _get(http, url(name, "/"))
    assert (status, body) == (200, SITE["/index.html"])
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "x-vortex-run-id" not in headers  # nothing ran
    assert (await _get(http, url(name, "/about")))[2] == SITE["/about.html"]
    assert (await _get(http, url(name, "/blog/")))[2] == SITE["/blog/index.html"]
    assert (await _get(http, url(name, "/blog/first")))[2] == SITE["/blog/first.html"]
    status, headers, _ = await _get(http, url(name, "/about.html?x=1"))
    assert (status, headers["Location"]) == (307, "/about?x=1")
    status, headers, _ = await _get(http, url(name, "/blog"))
    assert (status, headers["Location"]) == (307, "/blog/")
    for path, kind in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/logo.svg", "image/svg+xml; charset=utf-8"),
        ("/img/dot.png", "image/png"),
        ("/robots.txt", "text/plain; charset=utf-8"),
    ]:
        status, headers, body = await _get(http, url(name, path))
        assert (status, headers["Content-Type"], body) == (200, kind, SITE[path]), path


async def test_etags_answer_304_and_head_has_no_body(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("etag")
    await deploy_site(http, name)
    url = server.fn_url(name, "/style.css")
    status, headers, body = await _get(http, url)
    etag = headers["ETag"]
    assert etag == f'"{sha(SITE["/style.css"])[:32]}"'
    assert headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    status, headers, body = await _get(http, url, **{"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    status, _, body = await _get(http, url, **{"If-None-Match": '"other"'})
    assert (status, body) == (200, SITE["/style.css"])
    status, headers, body = await _get(http, url, "HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(SITE["/style.css"]))


async def test_what_matches_no_asset_runs_the_code(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("api")
    await deploy_site(http, name, not_found_handling="single-page-application")
    url = server.fn_url
    status, headers, body = await _get(http, url(name, "/api/users"))
    assert (status, body) == (200, b'{"api":"/api/users"}')
    assert headers["x-vortex-run-id"]
    # A POST never reads an asset: the code gets it.
    async with http.post(url(name, "/api/x"), data=b"x") as response:
        assert await response.json() == {"api": "/api/x"}
    # A browser's navigation that matches nothing gets the app's shell, before any code.
    status, headers, body = await _get(http, url(name, "/app/settings"), **NAVIGATE)
    assert (status, body) == (200, SITE["/index.html"])
    assert "x-vortex-run-id" not in headers
    # fetch() from the page (no navigation) reaches the code, whose env.ASSETS falls back too.
    status, headers, body = await _get(http, url(name, "/app/settings"))
    assert (status, body) == (200, SITE["/index.html"])
    assert headers["x-vortex-run-id"]


async def test_env_assets_fetch_answers_as_workers_does(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("binding")
    await deploy_site(http, name, run_worker_first=True, not_found_handling="404-page")
    url = server.fn_url
    # run_worker_first: even "/" runs the code, which hands it to env.ASSETS.
    status, headers, body = await _get(http, url(name, "/"))
    assert (status, body) == (200, SITE["/index.html"])
    assert headers["x-vortex-run-id"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    status, _, body = await _get(http, url(name, "/via-binding"))
    assert (status, body) == (200, b"binding:200:" + SITE["/about.html"])
    status, _, body = await _get(http, url(name, "/blog/nothing"))
    assert (status, body) == (404, SITE["/blog/404.html"])
    status, _, body = await _get(http, url(name, "/nothing"))
    assert (status, body) == (404, SITE["/404.html"])
    etag = f'"{sha(SITE["/app.js"])[:32]}"'
    status, _, body = await _get(http, url(name, "/app.js"), **{"If-None-Match": etag})
    assert (status, body) == (304, b"")
    status, headers, _ = await _get(http, url(name, "/about.html"))
    assert (status, headers["Location"]) == (307, "/about")


async def test_patterns_choose_which_paths_run_the_code_first(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("patterns")
    files = {**SITE, "/api/cached.json": b"[1]"}
    await deploy_site(http, name, files, run_worker_first=["/api/*"])
    status, headers, body = await _get(http, server.fn_url(name, "/api/cached.json"))
    assert (status, body) == (200, b'{"api":"/api/cached.json"}')
    status, headers, body = await _get(http, server.fn_url(name, "/"))
    assert (status, body) == (200, SITE["/index.html"])
    assert "x-vortex-run-id" not in headers


async def test_not_found_handling_none_is_a_plain_404_from_the_binding(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("plain")
    await deploy_site(http, name)
    status, _, body = await _get(http, server.fn_url(name, "/nothing"))
    assert (status, body) == (404, b"")


async def test_a_rollback_brings_back_that_versions_assets(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("versions")
    await deploy_site(http, name, {"/index.html": b"v1", "/only-v1.txt": b"old"})
    await deploy_site(http, name, {"/index.html": b"v2"})
    await deploy_site(http, name, {"/index.html": b"v3"})
    url = server.fn_url
    assert (await _get(http, url(name, "/")))[2] == b"v3"
    assert (await _get(http, url(name, "/only-v1.txt")))[0] == 404
    async with http.post(f"/functions/{name}/rollback", json={"to": 1}) as response:
        assert response.status == 200, await response.text()
    assert (await _get(http, url(name, "/")))[2] == b"v1"
    assert (await _get(http, url(name, "/only-v1.txt")))[2] == b"old"
    async with http.get(f"/functions/{name}") as response:
        shown = (await response.json())["assets"]
    assert (shown["files"], shown["size"], shown["config"]["binding"]) == (2, 5, "ASSETS")
    # A deploy without assets has none: they are the version's, as its code is.
    async with http.post(
        "/deploy",
        json={
            "name": name,
            "filename": "index.mjs",
            "code": "export default {fetch(){return new Response('code')}}",
        },
    ) as response:
        assert response.status == 200
    assert (await _get(http, url(name, "/")))[2] == b"code"


async def test_uploads_and_manifests_are_checked(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async def refused(method: str, path: str, **kwargs: object) -> tuple[int, str]:
        async with http.request(method, path, **kwargs) as response:  # type: ignore[arg-type]
            body = await response.json()
            return response.status, body["error"]["code"]

    digest = sha(b"real")
    assert await refused("PUT", f"/assets/{digest}", data=b"fake") == (400, "asset_hash_mismatch")
    assert await refused("PUT", "/assets/../../etc", data=b"x") in {
        (400, "invalid_assets"),
        (404, "not_found"),
    }
    assert await refused("PUT", "/assets/" + "A" * 64, data=b"x") == (400, "invalid_assets")
    assert await refused("POST", "/assets/missing", json={"hashes": ["x"]}) == (
        400,
        "invalid_assets",
    )
    code = "export default {fetch(){return new Response('x')}}"

    def deploy_with(manifest: dict[str, object], **config: object) -> dict[str, object]:
        return {
            "code": code,
            "filename": "index.mjs",
            "assets": {"manifest": manifest, "config": config},
        }

    never = {"hash": sha(b"never uploaded"), "size": 14}
    status, error = await refused("POST", "/deploy", json=deploy_with({"/a": never}))
    assert (status, error) == (400, "asset_missing")
    manifest = await upload(http, {"/ok.txt": b"ok"})
    entry = manifest["/ok.txt"]
    for attack in ["/../etc/passwd", "/a/../../b", "relative", "/a\x00b", "/a//b", "/a\\b"]:
        status, error = await refused("POST", "/deploy", json=deploy_with({attack: entry}))
        assert (status, error) == (400, "invalid_asset_path"), attack
    huge = {"hash": entry["hash"], "size": 26 << 20}
    assert await refused("POST", "/deploy", json=deploy_with({"/big": huge})) == (
        413,
        "asset_too_large",
    )
    status, error = await refused(
        "POST", "/deploy", json=deploy_with({"/x": entry}, not_found_handling="nope")
    )
    assert (status, error) == (400, "invalid_assets")


async def test_a_request_cannot_leave_the_manifest(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """Traversals name paths of the version's manifest, never files: a function serves its
    own assets and nothing of another's, even knowing their hashes."""
    other = _name("other")
    await deploy_site(http, other, {"/secret.txt": b"other's secret"})
    name = _name("mine")
    await deploy_site(http, name, {"/index.html": b"mine"})
    port = server.functions_port
    for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/secret.txt", "/..%2fsecret.txt"]:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                f"GET {target} HTTP/1.1\r\nHost: {name}.localhost\r\nConnection: close\r\n\r\n".encode()
            )
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert b"other's secret" not in data, target


async def test_the_operators_limits_are_kept(server_factory: Callable[..., ServerProcess]) -> None:
    limited = server_factory(
        {
            "VORTEX_ASSETS_MAX_FILE_BYTES": "1000",
            "VORTEX_ASSETS_MAX_FILES": "2",
            "VORTEX_ASSETS_MAX_TOTAL_BYTES": "1500",
        }
    )
    async with aiohttp.ClientSession(base_url=limited.url) as http:

        async def error(method: str, path: str, **kwargs: Any) -> tuple[int, str]:
            async with http.request(method, path, **kwargs) as response:
                return response.status, (await response.json())["error"]["code"]

        big = b"x" * 1001
        assert await error("PUT", f"/assets/{sha(big)}", data=big) == (413, "asset_too_large")
        files = {"/a": b"a" * 800, "/b": b"b" * 800}
        manifest = await upload(http, files)
        body = {"code": "export default {fetch(){return new Response('x')}}", "filename": "a.mjs"}
        too_much = {**body, "assets": {"manifest": manifest}}
        assert await error("POST", "/deploy", json=too_much) == (413, "assets_too_large")
        three = {**manifest, "/c": manifest["/a"]}
        too_many = {**body, "assets": {"manifest": three}}
        assert await error("POST", "/deploy", json=too_many) == (400, "too_many_assets")
        one = {**body, "assets": {"manifest": {"/a": manifest["/a"]}}}
        async with http.post("/deploy", json=one) as response:
            assert response.status == 200, await response.text()


REDIRECTS = """
/home      /                          301
/shop/*    /blog/index.html           200
/go/*      https://example.com/:splat
"""


async def test_the_redirects_file_answers_before_the_assets_and_through_the_binding(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = _name("redirects")
    await deploy_site(http, name, redirects=REDIRECTS)
    url = server.fn_url
    status, headers, _ = await _get(http, url(name, "/home"))
    assert (status, headers["Location"]) == (301, "/")
    assert "x-vortex-run-id" not in headers  # the listener's answer: nothing ran
    status, headers, _ = await _get(http, url(name, "/go/a/b?c=1"))
    assert (status, headers["Location"]) == (302, "https://example.com/a/b?c=1")
    status, headers, body = await _get(http, url(name, "/shop/cart/items"))
    assert (status, body) == (200, SITE["/blog/index.html"])  # rewritten: the URL stays
    # The code first: its env.ASSETS.fetch(request) meets the same rules.
    first = _name("redirects-first")
    await deploy_site(http, first, redirects=REDIRECTS, run_worker_first=True)
    status, headers, _ = await _get(http, url(first, "/home"))
    assert (status, headers["Location"]) == (301, "/")
    assert "x-vortex-run-id" in headers
    status, _, body = await _get(http, url(first, "/shop/x"))
    assert (status, body) == (200, SITE["/blog/index.html"])
