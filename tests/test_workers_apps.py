"""Apps written for Cloudflare Workers with Hono and itty-router, as their docs show, on Vortex.

The apps under tests/apps/ import the real packages from npm (versions pinned by
tests/apps/package-lock.json). Each is deployed by one ``vortex deploy`` run in its folder (with a
wrangler.toml, a wrangler.jsonc, or the entry's path), which bundles it the way wrangler bundles a
Worker (esbuild, ESM, the ``workerd`` conditions); their routes are called on the functions
listener at ``http://{name}.localhost:{port}/...`` like any client would.

The npm install is kept in pytest's cache directory, keyed by the package files, so only the
first run on a machine reaches the npm registry.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.npm_apps import APPS, apps_project, call, cli_deploy, entry_of, run_logs
from tests.server import ServerProcess
from vortex.cli.bundle import bundle

APP_NAMES = {"hono": "hono-app", "itty": "itty-app", "itty-classic": "itty-classic-app"}
"""App directory under tests/apps/ -> the name it is deployed under."""
BUNDLE_TIMINGS = pytest.StashKey[dict[str, float]]()
"""Seconds the npm install (or finding it cached) and the bundling took, for the report."""

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def _nodejs_compat(app: Path) -> bool:
    """Whether the app's wrangler.toml asks for nodejs_compat (jsonwebtoken's does)."""
    config = app / "wrangler.toml"
    return config.is_file() and "nodejs_compat" in config.read_text()


@pytest.fixture(scope="session")
def bundles(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Each app of tests/apps/ bundled as ``vortex deploy`` bundles it: app directory -> one ES
    module."""
    started = time.monotonic()
    project = apps_project(request, tmp_path_factory)
    installed = time.monotonic()
    built = {
        app.name: bundle(entry, project, node_globals=_nodejs_compat(app)).code
        for app in sorted(project.iterdir())
        if (entry := entry_of(app)) is not None
    }
    request.config.stash[BUNDLE_TIMINGS] = {
        "install": installed - started,
        "bundle": time.monotonic() - installed,
    }
    return built


HONO_TOML = """\
name = "hono-app"
main = "index.mjs"
compatibility_date = "2024-11-01"
"""
ITTY_JSONC = """\
// wrangler.jsonc
{
  "name": "itty-app",
  "main": "index.mjs", // the router
  "compatibility_date": "2024-11-01",
}
"""


@pytest.fixture(scope="module")
def deployed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
) -> dict[str, dict[str, Any]]:
    """The apps deployed once for this module, each by one ``vortex deploy`` in its folder:
    Hono's with a wrangler.toml, itty's with a wrangler.jsonc, the classic itty app by its
    entry's path. App directory -> the deploy's answer."""
    project = apps_project(request, tmp_path_factory)
    (project / "hono" / "wrangler.toml").write_text(HONO_TOML)
    (project / "itty" / "wrangler.jsonc").write_text(ITTY_JSONC)
    answers = {
        "hono": cli_deploy(server, project / "hono"),
        "itty": cli_deploy(server, project / "itty"),
        "itty-classic": cli_deploy(
            server, project / "itty-classic", "index.mjs", "--name", APP_NAMES["itty-classic"]
        ),
    }
    for app, name in APP_NAMES.items():
        assert answers[app].get("name") == name, answers[app]
    return answers


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def hono(server: ServerProcess, deployed: dict[str, dict[str, Any]]) -> Any:
    return lambda path: server.fn_url(APP_NAMES["hono"], path)


@pytest.fixture
def itty(server: ServerProcess, deployed: dict[str, dict[str, Any]]) -> Any:
    return lambda path: server.fn_url(APP_NAMES["itty"], path)


@pytest.fixture
def classic(server: ServerProcess, deployed: dict[str, dict[str, Any]]) -> Any:
    return lambda path: server.fn_url(APP_NAMES["itty-classic"], path)


# ------------------------------------------------------------------------------------------- build


def test_the_apps_bundle_with_the_real_packages(
    request: pytest.FixtureRequest, bundles: dict[str, str]
) -> None:
    lock = json.loads((APPS / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/hono"]["version"].startswith("4.")
    assert lock["node_modules/itty-router"]["version"].startswith("5.")
    for app, package in [("hono", "hono"), ("itty", "itty-router")]:
        # the package's own code is in the bundle (esbuild notes each file it took) ...
        assert f"/node_modules/{package}/" in bundles[app]
        # ... and no import is left for the server to resolve: the one export is the app
        assert not re.search(r"^import ", bundles[app], re.MULTILINE)
        assert bundles[app].rstrip().endswith("as default\n};")
    timings = request.config.stash[BUNDLE_TIMINGS]
    print(f"npm install {timings['install']:.2f}s, esbuild {timings['bundle']:.2f}s")


def test_the_apps_deploy_under_their_names(
    server: ServerProcess, deployed: dict[str, dict[str, Any]]
) -> None:
    for app, name in APP_NAMES.items():
        assert deployed[app]["url"] == server.fn_url(name, "/").rstrip("/")


# -------------------------------------------------------------------------------------------- hono


async def test_hono_text(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/"))
    assert answer.status == 200
    assert answer.text == "Hello Hono!"
    assert answer.headers["Content-Type"] == "text/plain;charset=UTF-8"
    # the app's own timing middleware wrapped the handler
    assert answer.headers["X-Response-Time"].endswith("ms")


async def test_hono_head_is_get_without_a_body(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "HEAD", hono("/"))
    assert answer.status == 200
    assert answer.body == b""
    assert answer.headers["Content-Type"] == "text/plain;charset=UTF-8"


async def test_hono_path_params(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/users/42"))
    assert (answer.status, answer.json()) == (200, {"id": "42"})
    assert answer.headers["Content-Type"] == "application/json"
    answer = await call(client, "GET", hono("/posts/7/comments/abc"))
    assert (answer.status, answer.json()) == (200, {"postId": "7", "commentId": "abc"})


async def test_hono_query(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/search?q=edge%20functions&tags=a&tags=b&limit=5"))
    assert answer.status == 200
    assert answer.json() == {"query": "edge functions", "tags": ["a", "b"], "limit": 5}
    answer = await call(client, "GET", hono("/search"))
    assert answer.json() == {"limit": 10}  # undefined query and tags are left out by JSON


async def test_hono_json_body(client: aiohttp.ClientSession, hono: Any) -> None:
    post = {"title": "Hello", "tags": ["a", "é"], "draft": False, "n": 1.5}
    answer = await call(client, "POST", hono("/posts"), json=post)
    assert answer.status == 201
    assert answer.json() == {"message": "Created!", "post": post}


async def test_hono_text_body_and_methods(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "PUT", hono("/posts/3"), data=b"new words")
    assert (answer.status, answer.text) == (200, "updated 3 with new words")
    answer = await call(client, "DELETE", hono("/posts/3"))
    assert (answer.status, answer.body) == (204, b"")
    answer = await call(client, "PATCH", hono("/posts/3"))
    assert (answer.status, answer.text) == (404, "Custom 404 Message")


async def test_hono_html(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/page"))
    assert answer.status == 200
    assert answer.text == "<h1>Hello! Hono!</h1>"
    assert answer.headers["Content-Type"] == "text/html; charset=UTF-8"


async def test_hono_redirects(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/redirect"))
    assert (answer.status, answer.headers["Location"]) == (302, "/")
    answer = await call(client, "GET", hono("/redirect-permanently"))
    assert (answer.status, answer.headers["Location"]) == (301, "/")
    # a client that follows it lands on the app's root, on the same origin
    async with client.get(hono("/redirect")) as followed:
        assert followed.status == 200
        assert str(followed.url) == hono("/")
        assert await followed.text() == "Hello Hono!"


async def test_hono_request_and_response_headers(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/headers"), headers={"User-Agent": "pytest-agent/1"})
    assert answer.json() == {"userAgent": "pytest-agent/1"}
    assert answer.headers["X-Message"] == "Hello!"
    assert answer.headers["Cache-Control"] == "max-age=60"


async def test_hono_request_url_is_the_url_sent(
    server: ServerProcess,
    client: aiohttp.ClientSession,
    hono: Any,
    deployed: dict[str, dict[str, Any]],
) -> None:
    url = hono("/url?x=1&y=two")
    answer = await call(client, "GET", url)
    assert answer.json() == {
        "url": url,
        "path": "/url",
        "method": "GET",
        "host": f"{APP_NAMES['hono']}.localhost:{server.functions_port}",
    }
    # the function's id is an origin of its own too, and the URL is still the one sent
    by_id = server.fn_url(deployed["hono"]["function_id"], "/url")
    assert (await call(client, "GET", by_id)).json()["url"] == by_id


async def test_hono_cookies(client: aiohttp.ClientSession, hono: Any) -> None:
    first = await call(client, "GET", hono("/cookie"))
    assert first.text == "visit 1"
    assert first.headers["Set-Cookie"] == "visits=1; Path=/; HttpOnly"
    # the client's cookie jar sends it back, as a browser would
    assert (await call(client, "GET", hono("/cookie"))).text == "visit 2"


async def test_hono_stream(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/stream"))
    assert (answer.status, answer.text) == (200, "Hello, streamed!")


async def test_hono_binary_body(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/bytes"))
    assert answer.body == bytes([0, 1, 2, 253, 254, 255])
    assert answer.headers["Content-Type"] == "application/octet-stream"


async def test_hono_wait_until_runs_after_the_response(
    server: ServerProcess, client: aiohttp.ClientSession, hono: Any
) -> None:
    answer = await call(client, "GET", hono("/wait"))
    assert (answer.status, answer.text) == (200, "queued")
    logs = await run_logs(server, APP_NAMES["hono"], answer.headers["X-Vortex-Run-Id"])
    assert logs == ["after the response"]


async def test_hono_wildcard(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/wild/any/card"))
    assert (answer.status, answer.text) == (200, "wildcard /wild/any/card")


async def test_hono_not_found(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/no/such/page"))
    assert (answer.status, answer.text) == (404, "Custom 404 Message")


async def test_hono_on_error(
    server: ServerProcess, client: aiohttp.ClientSession, hono: Any
) -> None:
    answer = await call(client, "GET", hono("/error"))
    assert (answer.status, answer.text) == (500, "Custom Error Message")
    logs = await run_logs(server, APP_NAMES["hono"], answer.headers["X-Vortex-Run-Id"])
    assert logs == ["Error: Something bad happened"]


async def test_hono_http_exception(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/forbidden"))
    assert (answer.status, answer.text) == (403, "Forbidden by Hono")


async def test_hono_route_group(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/api/books"))
    assert answer.status == 200
    assert answer.json() == [
        {"id": 1, "title": "Hono in Action"},
        {"id": 2, "title": "Workers at the Edge"},
    ]
    assert (await call(client, "GET", hono("/api/books/2"))).json()["title"] == (
        "Workers at the Edge"
    )
    missing = await call(client, "GET", hono("/api/books/9"))
    assert (missing.status, missing.text) == (404, "Custom 404 Message")
    # the {[0-9]+} pattern refuses a word
    assert (await call(client, "GET", hono("/api/books/abc"))).status == 404
    created = await call(client, "POST", hono("/api/books"), json={"title": "New"})
    assert (created.status, created.json()) == (201, {"id": 3, "title": "New"})


async def test_hono_cors(client: aiohttp.ClientSession, hono: Any) -> None:
    origin = {"Origin": "http://elsewhere.example"}
    answer = await call(client, "GET", hono("/api/books"), headers=origin)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    preflight = await call(
        client,
        "OPTIONS",
        hono("/api/books"),
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"].split(",")
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
    # routes outside /api/* have no CORS middleware
    assert "Access-Control-Allow-Origin" not in (await call(client, "GET", hono("/"))).headers


async def test_hono_etag(client: aiohttp.ClientSession, hono: Any) -> None:
    first = await call(client, "GET", hono("/etag/data"))
    assert (first.status, first.text) == (200, "Hono is cool")
    tag = first.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    again = await call(client, "GET", hono("/etag/data"), headers={"If-None-Match": tag})
    assert (again.status, again.body, again.headers["ETag"]) == (304, b"", tag)
    other = await call(client, "GET", hono("/etag/data"), headers={"If-None-Match": '"other"'})
    assert other.status == 200


async def test_hono_basic_auth(client: aiohttp.ClientSession, hono: Any) -> None:
    refused = await call(client, "GET", hono("/admin/page"))
    assert (refused.status, refused.text) == (401, "Unauthorized")
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="Secure Area"'
    wrong = await call(
        client,
        "GET",
        hono("/admin/page"),
        headers={"Authorization": aiohttp.encode_basic_auth("hono", "guess")},
    )
    assert wrong.status == 401
    allowed = await call(
        client,
        "GET",
        hono("/admin/page"),
        headers={"Authorization": aiohttp.encode_basic_auth("hono", "acoolproject")},
    )
    assert (allowed.status, allowed.text) == (200, "You are authorized")


async def test_hono_jwt(client: aiohttp.ClientSession, hono: Any) -> None:
    issued = await call(client, "POST", hono("/token"), json={"sub": "ann"})
    token = issued.json()["token"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    bearer = {"Authorization": f"Bearer {token}"}
    answer = await call(client, "GET", hono("/auth/page"), headers=bearer)
    assert (answer.status, answer.json()) == (200, {"sub": "ann", "role": "admin"})
    assert (await call(client, "GET", hono("/auth/page"))).status == 401
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = await call(
        client, "GET", hono("/auth/page"), headers={"Authorization": f"Bearer {forged}"}
    )
    assert answer.status == 401


async def test_hono_secure_headers(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/secure/page"))
    assert answer.text == "with secure headers"
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cross-Origin-Opener-Policy"] == "same-origin"


async def test_hono_parse_body_urlencoded(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "POST", hono("/form"), data={"name": "ann", "age": "7"})
    assert (answer.status, answer.json()) == (200, {"name": "ann", "age": "7"})


async def test_hono_parse_body_multipart(client: aiohttp.ClientSession, hono: Any) -> None:
    form = aiohttp.FormData({"name": "ann", "note": "multi\npart"}, default_to_multipart=True)
    answer = await call(client, "POST", hono("/form"), data=form)
    assert (answer.status, answer.json()) == (200, {"name": "ann", "note": "multi\npart"})


async def test_hono_stream_sse(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/sse"))
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/event-stream"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.text == "".join(
        f"event: time-update\ndata: tick {i}\nid: {i}\n\n" for i in range(3)
    )


async def test_hono_stream_text(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "GET", hono("/stream-text"))
    assert (answer.status, answer.text) == (200, "Hello\nHono!")
    assert answer.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_hono_compress(client: aiohttp.ClientSession, hono: Any) -> None:
    """hono/compress gzips the body with CompressionStream and says Content-Encoding: gzip,
    which on Workers asks the runtime to gzip the body (encodeBody "automatic"): the bytes are
    gzipped twice, as workerd sends them (Hono's docs: not needed on Workers). The client
    inflates once; the inner gzip is the middleware's."""
    answer = await call(client, "GET", hono("/compress/text"), headers={"Accept-Encoding": "gzip"})
    assert (answer.status, gzip.decompress(answer.body).decode()) == (200, "compress me " * 200)
    assert answer.headers["Content-Encoding"] == "gzip"
    answer = await call(
        client, "GET", hono("/compress/text"), headers={"Accept-Encoding": "identity"}
    )
    assert answer.text == "compress me " * 200
    assert "Content-Encoding" not in answer.headers


async def test_hono_pretty_json_timing_and_request_id(
    client: aiohttp.ClientSession, hono: Any
) -> None:
    pretty = await call(client, "GET", hono("/pretty/data?pretty"))
    assert pretty.text == '{\n  "project": {\n    "name": "hono",\n    "stars": 1\n  }\n}'
    assert (await call(client, "GET", hono("/pretty/data"))).text == (
        '{"project":{"name":"hono","stars":1}}'
    )
    timed = await call(client, "GET", hono("/timing/work"))
    assert timed.text == "timed"
    metrics = [part.strip() for part in timed.headers["Server-Timing"].split(",")]
    assert re.fullmatch(r"db;dur=[\d.]+", metrics[0]), metrics
    assert metrics[1] == 'region;desc="local"'
    assert metrics[2].startswith("total;dur="), metrics
    first = await call(client, "GET", hono("/request-id/echo"))
    second = await call(client, "GET", hono("/request-id/echo"))
    assert first.text == first.headers["X-Request-Id"] != second.text
    assert re.fullmatch(r"[0-9a-f-]{36}", first.text)


async def test_hono_body_limit(client: aiohttp.ClientSession, hono: Any) -> None:
    small = await call(client, "POST", hono("/limited/upload"), data=b"short")
    assert (small.status, small.text) == (200, "got 5 bytes")
    large = await call(client, "POST", hono("/limited/upload"), data=b"x" * 17)
    assert (large.status, large.text) == (413, "overflow :(")


async def test_hono_conninfo_and_html_helper(client: aiohttp.ClientSession, hono: Any) -> None:
    # getConnInfo of hono/cloudflare-workers reads CF-Connecting-IP
    assert (await call(client, "GET", hono("/ip"))).json() == {"address": "127.0.0.1"}
    answer = await call(client, "GET", hono("/template/%3Cb%3Eann"))
    assert answer.text == "<!doctype html><p>Hello, &lt;b&gt;ann!</p>"


async def test_hono_validator(client: aiohttp.ClientSession, hono: Any) -> None:
    answer = await call(client, "POST", hono("/validated/form"), data={"body": "hi"})
    assert (answer.status, answer.json()) == (201, {"message": "Created!", "body": "hi"})
    answer = await call(client, "POST", hono("/validated/form"), data={"other": "hi"})
    assert (answer.status, answer.text) == (400, "Invalid!")


async def test_hono_zod_validator(client: aiohttp.ClientSession, hono: Any) -> None:
    good = {"name": "ann", "age": 7}
    answer = await call(client, "POST", hono("/validated/author"), json=good)
    assert (answer.status, answer.json()) == (200, {"success": True, "message": "ann is 7"})
    answer = await call(client, "POST", hono("/validated/author"), json={"name": "", "age": -1})
    assert answer.status == 400
    error = answer.json()
    assert error["success"] is False and error["error"]["name"] == "ZodError"
    issues = json.loads(error["error"]["message"])
    assert [(issue["path"], issue["code"]) for issue in issues] == [
        (["name"], "too_small"),
        (["age"], "too_small"),
    ]
    answer = await call(client, "GET", hono("/validated/search?q=edge&page=3"))
    assert answer.json() == {"q": "edge", "page": 3}
    assert (await call(client, "GET", hono("/validated/search?page=3"))).status == 400


async def test_hono_cookie_helpers(client: aiohttp.ClientSession, hono: Any) -> None:
    first = await call(client, "GET", hono("/signed-cookie"))
    assert first.json() == {"seen": None}
    value = first.headers["Set-Cookie"].split(";")[0].removeprefix("session=")
    assert value.startswith("ann.")  # the value, then its HMAC-SHA256 signature
    # the client's jar sends it back; a tampered signature reads as no cookie
    assert (await call(client, "GET", hono("/signed-cookie"))).json() == {"seen": "ann"}
    forged = {"Cookie": "session=bob." + value.split(".", 1)[1]}
    async with aiohttp.ClientSession() as fresh:
        answer = await call(fresh, "GET", hono("/signed-cookie"), headers=forged)
        assert answer.json() == {"seen": False}
        answer = await call(fresh, "GET", hono("/cookies/all"), headers={"Cookie": "a=1; b=two"})
        assert answer.json() == {"a": "1", "b": "two"}
        answer = await call(fresh, "GET", hono("/cookies/clear"), headers={"Cookie": "visits=4"})
        assert answer.text == "removed 4"
        assert answer.headers["Set-Cookie"] == "visits=; Max-Age=0; Path=/"


async def test_hono_logger_middleware(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
    client: aiohttp.ClientSession,
) -> None:
    folder = apps_project(request, tmp_path_factory) / "hono-logger"
    answer = cli_deploy(server, folder, "index.mjs", "--name", "hono-logger-app")
    assert answer.get("name") == "hono-logger-app", answer
    served = await call(client, "GET", server.fn_url("hono-logger-app", "/"))
    assert (served.status, served.text) == (200, "logged")
    logs = await run_logs(server, "hono-logger-app", served.headers["X-Vortex-Run-Id"])
    assert logs[0] == "<-- GET /"
    # Colours on, as on workerd: hono colours the status unless NO_COLOR is set (on workerd it
    # looks in the env of an import("cloudflare:workers"), which here rejects and means unset).
    assert logs[1].startswith("--> GET / \x1b[32m200\x1b[0m "), logs


async def test_hono_context_storage_across_awaits_of_concurrent_requests(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
    client: aiohttp.ClientSession,
) -> None:
    """hono/context-storage imports node:async_hooks: getContext() is each request's own."""
    folder = apps_project(request, tmp_path_factory) / "hono-context"
    answer = cli_deploy(server, folder, "index.mjs", "--name", "hono-context-app")
    assert answer.get("name") == "hono-context-app", answer
    url = server.fn_url("hono-context-app", "/")
    answers = await asyncio.gather(
        *(call(client, "GET", f"{url}?who=n{i}&ms={(i * 7) % 20}") for i in range(12))
    )
    for i, served in enumerate(answers):
        assert (served.status, served.text) == (200, f"Hello n{i} / Hello n{i}")


HONO_JSX_TOML = """\
name = "hono-jsx-app"
main = "index.tsx"
compatibility_date = "2024-11-01"
"""


async def test_hono_jsx(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
    client: aiohttp.ClientSession,
) -> None:
    """A .tsx entry: esbuild takes the JSX import source from the app's tsconfig.json, as
    wrangler's does."""
    folder = apps_project(request, tmp_path_factory) / "hono-jsx"
    (folder / "wrangler.toml").write_text(HONO_JSX_TOML)
    assert cli_deploy(server, folder).get("name") == "hono-jsx-app"
    page = await call(client, "GET", server.fn_url("hono-jsx-app", "/"))
    assert page.text == (
        "<html><body><h1>Hello Hono!</h1><ul><li>Good Morning!!</li><li>Good Evening!!</li>"
        "<li>&lt;Good Night&gt;!!</li></ul></body></html>"
    )
    assert page.headers["Content-Type"] == "text/html; charset=UTF-8"
    later = await call(client, "GET", server.fn_url("hono-jsx-app", "/async"))
    assert later.text == "<div><p>loaded later</p></div>"
    rendered = await call(client, "GET", server.fn_url("hono-jsx-app", "/page/about"))
    assert rendered.text == (
        "<!DOCTYPE html><html><head><title>Rendered</title></head>"
        '<body><p class="about">About</p></body></html>'
    )
    # Suspense: the fallback goes at once, the component's HTML and its script 300 ms later
    chunks: list[tuple[float, bytes]] = []
    started = time.monotonic()
    async with client.get(server.fn_url("hono-jsx-app", "/stream")) as response:
        assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
        async for chunk in response.content.iter_any():
            chunks.append((time.monotonic() - started, chunk))
    streamed = b"".join(chunk for _, chunk in chunks).decode()
    assert streamed.startswith(
        '<html><body><template id="H:0"></template><p>loading...</p><!--/$--></body></html>'
        '<template data-hono-target="H:0"><p>streamed later</p></template><script>'
    )
    fallback_at = next(at for at, chunk in chunks if b"loading..." in chunk)
    later_at = next(at for at, chunk in chunks if b"streamed later" in chunk)
    assert later_at - fallback_at > 0.2, chunks


# ------------------------------------------------------------------------------------ itty-router


async def test_itty_auto_router_formats_json(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "GET", itty("/"))
    assert (answer.status, answer.json()) == (200, "Success!")
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    answer = await call(client, "GET", itty("/json"))
    assert (answer.status, answer.json()) == (200, {"foo": "bar", "n": 1})


async def test_itty_params(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "GET", itty("/hello/Kitty"))
    assert (answer.status, answer.json()) == (200, "Hello, Kitty!")
    answer = await call(client, "GET", itty("/todos/1"))
    assert answer.json() == {"id": "1", "title": "read the docs"}
    answer = await call(client, "GET", itty("/files/docs/guide/intro.md"))
    assert answer.json() == {"path": "docs/guide/intro.md"}


async def test_itty_query(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "GET", itty("/search?q=router&tag=x&tag=y"))
    assert answer.json() == {"q": "router", "tags": ["x", "y"]}
    answer = await call(client, "GET", itty("/todos?limit=0"))
    assert answer.json() == []


async def test_itty_json_body(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "POST", itty("/todos"), json={"title": "ship it"})
    assert (answer.status, answer.json()) == (201, {"id": "2", "title": "ship it"})


async def test_itty_status(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "DELETE", itty("/todos/1"))
    assert (answer.status, answer.body) == (204, b"")


async def test_itty_text_and_html(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "GET", itty("/text"))
    assert (answer.text, answer.headers["Content-Type"]) == (
        "plain text",
        "text/plain; charset=utf-8",
    )
    answer = await call(client, "GET", itty("/page"))
    assert (answer.text, answer.headers["Content-Type"]) == ("<p>itty page</p>", "text/html")


async def test_itty_request_url_is_the_url_sent(client: aiohttp.ClientSession, itty: Any) -> None:
    url = itty("/url?a=1")
    answer = await call(client, "GET", url)
    assert answer.json() == {"url": url, "method": "GET", "route": "/url"}


async def test_itty_error(client: aiohttp.ClientSession, itty: Any) -> None:
    answer = await call(client, "GET", itty("/teapot"))
    assert (answer.status, answer.json()) == (418, {"status": 418, "error": "I am a teapot"})
    answer = await call(client, "GET", itty("/todos/9"))
    assert (answer.status, answer.json()) == (404, {"status": 404, "error": "Todo not found"})
    # a throw becomes a 500 through AutoRouter's catch
    answer = await call(client, "GET", itty("/throw"))
    assert (answer.status, answer.json()) == (500, {"status": 500, "error": "Bad Request"})


async def test_itty_not_found(client: aiohttp.ClientSession, itty: Any) -> None:
    for method, path in [("GET", "/nope"), ("PATCH", "/todos/1")]:
        answer = await call(client, method, itty(path))
        assert (answer.status, answer.json()) == (404, {"status": 404, "error": "Not Found"})


async def test_itty_cors(client: aiohttp.ClientSession, itty: Any) -> None:
    origin = {"Origin": "http://elsewhere.example"}
    preflight = await call(
        client,
        "OPTIONS",
        itty("/todos"),
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST,DELETE"
    assert preflight.headers["Access-Control-Max-Age"] == "84400"
    # corsify dresses every response, errors included
    for path in ["/json", "/nope"]:
        answer = await call(client, "GET", itty(path), headers=origin)
        assert answer.headers["Access-Control-Allow-Origin"] == "*"


async def test_itty_classic_router(client: aiohttp.ClientSession, classic: Any) -> None:
    answer = await call(client, "GET", classic("/"))
    assert (answer.status, answer.json()) == (200, "Classic!")
    answer = await call(client, "GET", classic("/items/5?sort=desc"))
    assert answer.json() == {"id": "5", "sort": "desc"}
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    answer = await call(client, "GET", classic("/items/6"))
    assert answer.json() == {"id": "6", "sort": "asc"}
    answer = await call(client, "POST", classic("/items"), json={"a": [1, 2]})
    assert answer.json() == {"received": {"a": [1, 2]}}


async def test_itty_classic_errors(client: aiohttp.ClientSession, classic: Any) -> None:
    answer = await call(client, "GET", classic("/fail"))
    assert (answer.status, answer.json()) == (500, {"status": 500, "error": "classic failure"})
    answer = await call(client, "GET", classic("/nowhere"))
    assert (answer.status, answer.json()) == (404, {"status": 404, "error": "Not Found"})
