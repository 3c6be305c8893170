"""Cloudflare's Workers examples (developers.cloudflare.com/workers/examples/), ported as a user
would port them: each written anew, small and in the example's spirit, deployed through the
HTTP API to a real server and called on the functions listener. What differs from Workers on
purpose (only some `node:` modules, no geolocation in `request.cf`, a no-op Cache API, one schedule per
function) is asserted as it is, and told in docs/http-functions.md ("Porting Workers examples").

Outbound fetches go to a local aiohttp server (the "origin"), never to the internet: the
server under test lets its functions reach loopback (VORTEX_FETCH_ALLOW_PRIVATE) and each
function that fetches allows 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import TEST_SERVER_ENV
from tests.runs import recorded
from tests.server import ServerProcess, start_server, stop_and_check
from tests.threaded_app import app_in_thread

PAGE = """<!DOCTYPE html>
<html><head><title>Origin</title></head>
<body><a href="http://old.example/docs">docs</a> <img src="http://old.example/logo.png">
<a href="https://elsewhere.example/">away</a></body></html>"""


@dataclass
class Origin:
    port: int
    hits: Counter[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _origin_app(hits: Counter[str]) -> web.Application:
    async def count(request: web.Request) -> None:
        hits[request.path] += 1

    async def json_doc(request: web.Request) -> web.Response:
        await count(request)
        return web.json_response({"from": "origin", "path": request.path})

    async def echo(request: web.Request) -> web.Response:
        await count(request)
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": body.decode(errors="replace"),
            }
        )

    async def page(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(
            text=PAGE,
            content_type="text/html",
            headers={"X-Powered-By": "origin/1.0", "Cache-Control": "max-age=60"},
        )

    async def image(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(body=b"\x89PNG\r\n\x1a\nfake", content_type="image/png")

    async def variant(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(text=f"{request.path.strip('/')} page", content_type="text/plain")

    async def cookies(request: web.Request) -> web.Response:
        await count(request)
        response = web.Response(text="two cookies")
        response.headers.add("Set-Cookie", "a=1; Path=/")
        response.headers.add("Set-Cookie", "b=2; Path=/; HttpOnly")
        return response

    app = web.Application()
    app.router.add_get("/json", json_doc)
    app.router.add_get("/other.json", json_doc)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/page", page)
    app.router.add_get("/image.png", image)
    app.router.add_get("/control", variant)
    app.router.add_get("/test", variant)
    app.router.add_get("/cookies", cookies)
    return app


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    hits: Counter[str] = Counter()
    with app_in_thread(_origin_app(hits)) as port:
        yield Origin(port, hits)


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The server the examples run on; its operator lets functions fetch loopback."""
    proc = start_server(
        tmp_path_factory.mktemp("examples"),
        {**TEST_SERVER_ENV, "VORTEX_FETCH_ALLOW_PRIVATE": "1"},
    )
    yield proc
    stop_and_check(proc)


@pytest.fixture
async def api(edge: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=edge.url) as session:
        yield session


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """A visitor of the functions listener; never follows redirects, keeps no cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def deploy(
    api: aiohttp.ClientSession,
    code: str,
    *,
    filename: str = "index.mjs",
    origin: Origin | None = None,
    **extra: Any,
) -> str:
    """Deploy ``code``; with ``origin``, the function may fetch it and has it as ``ORIGIN``."""
    if origin is not None:
        extra["allow_hosts"] = ["127.0.0.1"]
        extra["env"] = {"ORIGIN": origin.url, **extra.get("env", {})}
    async with api.post("/deploy", json={"code": code, "filename": filename, **extra}) as answer:
        body = await answer.json()
        assert answer.status == 200, body
        return str(body["function_id"])


# -- Return JSON, return small HTML page, fetch JSON/HTML ---------------------------------------

RETURN_JSON = """
export default {
  async fetch(request) {
    const data = { hello: 'world', list: [1, 2, 3], at: new URL(request.url).pathname };
    if (request.url.endsWith('/helper')) return Response.json(data);
    return new Response(JSON.stringify(data, null, 2), {
      headers: { 'content-type': 'application/json;charset=UTF-8' },
    });
  },
};
"""


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/", "application/json;charset=UTF-8"), ("/helper", "application/json")],
)
async def test_return_json(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    path: str,
    content_type: str,
) -> None:
    ref = await deploy(api, RETURN_JSON)
    async with client.get(edge.fn_url(ref, path)) as response:
        assert response.status == 200
        assert response.headers["content-type"] == content_type
        assert await response.json(content_type=None) == {
            "hello": "world",
            "list": [1, 2, 3],
            "at": path,
        }


RETURN_HTML_MODULE = """
const html = `<!DOCTYPE html>
<body><h1>Hello World</h1><p>This markup was generated by a Worker: ✓ ünïcode</p></body>`;
export default {
  fetch() {
    return new Response(html, { headers: { 'content-type': 'text/html;charset=UTF-8' } });
  },
};
"""
RETURN_HTML_SW = """
const html = `<!DOCTYPE html>
<body><h1>Hello World</h1><p>This markup was generated by a Worker: ✓ ünïcode</p></body>`;
addEventListener('fetch', (event) => {
  event.respondWith(new Response(html, { headers: { 'content-type': 'text/html;charset=UTF-8' } }));
});
"""


@pytest.mark.parametrize(
    ("code", "filename"),
    [(RETURN_HTML_MODULE, "index.mjs"), (RETURN_HTML_SW, "worker.js")],
    ids=["module", "service-worker"],
)
async def test_return_small_html_page(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    code: str,
    filename: str,
) -> None:
    ref = await deploy(api, code, filename=filename)
    async with client.get(edge.fn_url(ref)) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/html;charset=UTF-8"
        text = await response.text()
    assert "<h1>Hello World</h1>" in text
    assert "✓ ünïcode" in text


FETCH_JSON_AND_HTML = """
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/html') {
      const page = await fetch(`${env.ORIGIN}/page`);
      return new Response(await page.text(), { headers: { 'content-type': 'text/html;charset=UTF-8' } });
    }
    const response = await fetch(`${env.ORIGIN}/json`, { headers: { accept: 'application/json' } });
    const data = await response.json();
    return Response.json({ got: data, status: response.status, ok: response.ok });
  },
};
"""


async def test_fetch_json_and_fetch_html(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, FETCH_JSON_AND_HTML, origin=origin)
    async with client.get(edge.fn_url(ref, "/json")) as response:
        assert response.status == 200
        assert await response.json() == {
            "got": {"from": "origin", "path": "/json"},
            "status": 200,
            "ok": True,
        }
    async with client.get(edge.fn_url(ref, "/html")) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/html;charset=UTF-8"
        assert await response.text() == PAGE


# -- Redirect, bulk redirects ------------------------------------------------------------------

REDIRECT_MODULE = """
const moved = new Map([
  ['/old-blog', 'https://blog.example.com/'],
  ['/bulk/docs', 'https://docs.example.com/start?ref=bulk'],
]);
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const target = moved.get(url.pathname);
    if (target) return Response.redirect(target, 301);
    if (url.pathname === '/same-site') {
      url.pathname = '/landing';
      return Response.redirect(url.toString(), 302);
    }
    return Response.redirect('https://example.com/', 307);
  },
};
"""
REDIRECT_SW = """
addEventListener('fetch', (event) => {
  event.respondWith(Response.redirect('https://example.com/from-sw', 301));
});
"""


async def test_redirect(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, REDIRECT_MODULE)
    expected = {
        "/old-blog": (301, "https://blog.example.com/"),
        "/bulk/docs": (301, "https://docs.example.com/start?ref=bulk"),
        "/same-site?keep=1": (302, edge.fn_url(ref, "/landing?keep=1")),
        "/anything": (307, "https://example.com/"),
    }
    for path, (status, location) in expected.items():
        async with client.get(edge.fn_url(ref, path), allow_redirects=False) as response:
            assert (response.status, response.headers["location"]) == (status, location), path
            assert await response.read() == b""
    sw = await deploy(api, REDIRECT_SW, filename="worker.js")
    async with client.get(edge.fn_url(sw), allow_redirects=False) as response:
        assert response.status == 301
        assert response.headers["location"] == "https://example.com/from-sw"


# -- Respond with another site, alter headers ----------------------------------------------------

ANOTHER_SITE = """
export default {
  async fetch(request, env) {
    if (request.method !== 'GET') {
      return new Response(`Method ${request.method} not allowed.`, {
        status: 405,
        headers: { Allow: 'GET' },
      });
    }
    return fetch(`${env.ORIGIN}/page`);
  },
};
"""


async def test_respond_with_another_site(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, ANOTHER_SITE, origin=origin)
    async with client.get(edge.fn_url(ref, "/whatever")) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["x-powered-by"] == "origin/1.0"
        # The origin's Date and the listener's are one header, as a browser expects.
        assert len(response.headers.getall("date")) == 1
        assert await response.text() == PAGE
    async with client.post(edge.fn_url(ref), data=b"x") as response:
        assert response.status == 405
        assert response.headers["allow"] == "GET"
        assert await response.text() == "Method POST not allowed."


ALTER_HEADERS = """
export default {
  async fetch(request, env) {
    const outgoing = new Request(`${env.ORIGIN}/echo`, request);
    outgoing.headers.set('x-added-by-worker', 'yes');
    outgoing.headers.delete('x-drop-me');
    const upstream = await fetch(outgoing);
    const response = new Response(upstream.body, upstream);
    response.headers.append('x-workers-hello', 'Hello from a Worker');
    response.headers.set('content-type', 'application/json');
    response.headers.delete('server');
    return response;
  },
};
"""


async def test_alter_headers(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, ALTER_HEADERS, origin=origin)
    headers = {"X-Drop-Me": "secret", "X-Keep": "kept", "Content-Type": "text/plain"}
    async with client.post(edge.fn_url(ref, "/p?q=1"), data="body sent", headers=headers) as r:
        assert r.status == 200
        assert r.headers["x-workers-hello"] == "Hello from a Worker"
        assert r.headers["content-type"] == "application/json"
        assert "server" not in r.headers
        seen = await r.json()
    assert seen["method"] == "POST"
    assert seen["body"] == "body sent"
    assert seen["headers"]["x-added-by-worker"] == "yes"
    assert seen["headers"]["x-keep"] == "kept"
    assert "x-drop-me" not in seen["headers"]


# -- Auth with headers, HTTP basic auth, timingSafeEqual ---------------------------------------

AUTH_HEADER_MODULE = """
export default {
  async fetch(request, env) {
    const psk = request.headers.get('X-Custom-PSK');
    if (psk === env.PSK) return new Response('Welcome, friend.');
    return new Response('Sorry, you have supplied an invalid key.', { status: 403 });
  },
};
"""
# In the service-worker syntax, a secret is a global binding.
AUTH_HEADER_SW = """
addEventListener('fetch', (event) => {
  const psk = event.request.headers.get('X-Custom-PSK');
  event.respondWith(psk === PSK
    ? new Response('Welcome, friend.')
    : new Response('Sorry, you have supplied an invalid key.', { status: 403 }));
});
"""


@pytest.mark.parametrize(
    ("code", "filename"),
    [(AUTH_HEADER_MODULE, "index.mjs"), (AUTH_HEADER_SW, "worker.js")],
    ids=["module", "service-worker"],
)
async def test_auth_with_headers(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    code: str,
    filename: str,
) -> None:
    ref = await deploy(api, code, filename=filename, secrets={"PSK": "mysecretvalue"})
    for sent, status in [("mysecretvalue", 200), ("wrong", 403), (None, 403)]:
        headers = {} if sent is None else {"X-Custom-PSK": sent}
        async with client.get(edge.fn_url(ref), headers=headers) as response:
            assert response.status == status, sent


PASS_THROUGH = """
addEventListener('fetch', (event) => event.respondWith(passThrough(event.request)));
async function passThrough(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return new Response(`${error.name}: ${error.message}`, { status: 502 });
  }
}
"""


async def test_fetch_of_the_incoming_request_says_there_is_no_origin(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    """Many examples end in `return fetch(request)`: on a route, Workers send it on to the
    origin. Here it names the function itself, and the refusal says so instead of advising to
    allow the host."""
    ref = await deploy(api, PASS_THROUGH, filename="worker.js", allow_hosts=["127.0.0.1"])
    async with client.get(edge.fn_url(ref, "/x")) as response:
        assert response.status == 502
        text = await response.text()
    assert text.startswith(f"TypeError: fetch to {ref}.localhost is refused: it is a function's")
    assert "fetch your origin's URL instead" in text
    assert "--allow-host" not in text


BASIC_AUTH = """
const encoder = new TextEncoder();

function sameText(a, b) {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  // timingSafeEqual throws on buffers of different lengths.
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}

function challenge(message) {
  return new Response(message, {
    status: 401,
    headers: { 'WWW-Authenticate': 'Basic realm="my scope", charset="UTF-8"' },
  });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/') return new Response('Anyone can access the homepage.');
    if (pathname === '/logout') return new Response('Logged out.', { status: 401 });
    if (pathname !== '/admin') return new Response('Not Found.', { status: 404 });
    const header = request.headers.get('Authorization');
    if (!header) return challenge('You need to login.');
    const [scheme, encoded] = header.split(' ');
    if (scheme !== 'Basic' || !encoded) {
      return new Response('Malformed authorization header.', { status: 400 });
    }
    let decoded;
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
    } catch {
      return new Response('Malformed authorization header.', { status: 400 });
    }
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    const pass = decoded.slice(colon + 1);
    const userOk = sameText(user, 'admin');
    const passOk = sameText(pass, env.PASSWORD);
    if (colon < 0 || !userOk || !passOk) return challenge('Invalid credentials.');
    return new Response('You have private access!', { headers: { 'Cache-Control': 'no-store' } });
  },
};
"""


@pytest.mark.parametrize(
    ("path", "auth", "status", "text"),
    [
        ("/", None, 200, "Anyone can access the homepage."),
        ("/admin", None, 401, "You need to login."),
        ("/admin", ("admin", "pässwörd"), 200, "You have private access!"),
        ("/admin", ("admin", "wrong"), 401, "Invalid credentials."),
        ("/admin", ("root", "pässwörd"), 401, "Invalid credentials."),
        ("/admin", "Basic !!!", 400, "Malformed authorization header."),
        ("/admin", "Bearer x", 400, "Malformed authorization header."),
        ("/logout", None, 401, "Logged out."),
        ("/nope", None, 404, "Not Found."),
    ],
)
async def test_http_basic_auth(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    path: str,
    auth: tuple[str, str] | str | None,
    status: int,
    text: str,
) -> None:
    ref = await deploy(api, BASIC_AUTH, secrets={"PASSWORD": "pässwörd"})
    headers = {}
    if isinstance(auth, tuple):
        credentials = base64.b64encode(":".join(auth).encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    elif auth is not None:
        headers["Authorization"] = auth
    async with client.get(edge.fn_url(ref, path), headers=headers) as response:
        assert response.status == status
        assert await response.text() == text
        if text == "You need to login.":
            assert response.headers["www-authenticate"] == 'Basic realm="my scope", charset="UTF-8"'
        if status == 200 and path == "/admin":
            assert response.headers["cache-control"] == "no-store"


TIMING_SAFE_EQUAL = """
export default {
  async fetch(request, env) {
    if (!env.MY_SECRET_VALUE) return new Response('Missing secret binding', { status: 500 });
    const token = request.headers.get('Authorization') || '';
    const encoder = new TextEncoder();
    const given = encoder.encode(token);
    const expected = encoder.encode(env.MY_SECRET_VALUE);
    if (given.byteLength !== expected.byteLength) return new Response('Unauthorized', { status: 401 });
    if (!crypto.subtle.timingSafeEqual(given, expected)) {
      return new Response('Unauthorized', { status: 401 });
    }
    let thrown = null;
    try { crypto.subtle.timingSafeEqual(given, new Uint8Array(1)); } catch (e) { thrown = e.name; }
    return Response.json({ ok: true, differentLengths: thrown });
  },
};
"""


async def test_using_timing_safe_equal(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, TIMING_SAFE_EQUAL, secrets={"MY_SECRET_VALUE": "s3cret-token"})
    for token, status in [("s3cret-token", 200), ("s3cret-tokeN", 401), ("short", 401)]:
        async with client.get(edge.fn_url(ref), headers={"Authorization": token}) as response:
            assert response.status == status, token
            if status == 200:
                assert await response.json() == {"ok": True, "differentLengths": "TypeError"}
    unbound = await deploy(api, TIMING_SAFE_EQUAL)
    async with client.get(edge.fn_url(unbound)) as response:
        assert response.status == 500
        assert await response.text() == "Missing secret binding"


CLOUDFLARE_BASIC_AUTH = """
/**
 * Shows how to restrict access using the HTTP Basic schema.
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Authentication
 * @see https://tools.ietf.org/html/rfc7617
 */

import { Buffer } from "node:buffer";

const encoder = new TextEncoder();

/**
 * Protect against timing attacks by safely comparing values using `timingSafeEqual`.
 */
function timingSafeEqual(a, b) {
  const aBytes = encoder.encode(a);
  const bBytes = encoder.encode(b);

  if (aBytes.byteLength !== bBytes.byteLength) {
    // Strings must be the same length in order to compare
    // with crypto.subtle.timingSafeEqual
    return false;
  }

  return crypto.subtle.timingSafeEqual(aBytes, bBytes);
}

export default {
  async fetch(request, env) {
    const BASIC_USER = "admin";

    // You will need an admin password. This should be
    // attached to your Worker as an encrypted secret.
    const BASIC_PASS = env.PASSWORD ?? "password";

    const url = new URL(request.url);

    switch (url.pathname) {
      case "/":
        return new Response("Anyone can access the homepage.");

      case "/logout":
        // Invalidate the "Authorization" header by returning a HTTP 401.
        return new Response("Logged out.", { status: 401 });

      case "/admin": {
        // The "Authorization" header is sent when authenticated.
        const authorization = request.headers.get("Authorization");
        if (!authorization) {
          return new Response("You need to login.", {
            status: 401,
            headers: {
              // Prompts the user for credentials.
              "WWW-Authenticate": 'Basic realm="my scope", charset="UTF-8"',
            },
          });
        }
        const [scheme, encoded] = authorization.split(" ");

        // The Authorization header must start with Basic, followed by a space.
        if (!encoded || scheme !== "Basic") {
          return new Response("Malformed authorization header.", {
            status: 400,
          });
        }

        const credentials = Buffer.from(encoded, "base64").toString();

        // The username & password are split by the first colon.
        //=> example: "username:password"
        const index = credentials.indexOf(":");
        const user = credentials.substring(0, index);
        const pass = credentials.substring(index + 1);

        if (
          !timingSafeEqual(BASIC_USER, user) ||
          !timingSafeEqual(BASIC_PASS, pass)
        ) {
          return new Response("You need to login.", {
            status: 401,
            headers: {
              // Prompts the user for credentials.
              "WWW-Authenticate": 'Basic realm="my scope", charset="UTF-8"',
            },
          });
        }

        return new Response("🎉 You have private access!", {
          status: 200,
          headers: {
            "Cache-Control": "no-store",
          },
        });
      }
    }

    return new Response("Not Found.", { status: 404 });
  },
};
"""


@pytest.mark.parametrize(
    ("path", "auth", "status", "text"),
    [
        ("/", None, 200, "Anyone can access the homepage."),
        ("/admin", None, 401, "You need to login."),
        ("/admin", ("admin", "pässwörd"), 200, "🎉 You have private access!"),
        ("/admin", ("admin", "wrong"), 401, "You need to login."),
        ("/admin", ("root", "pässwörd"), 401, "You need to login."),
        ("/admin", "Bearer x", 400, "Malformed authorization header."),
        ("/logout", None, 401, "Logged out."),
        ("/nope", None, 404, "Not Found."),
    ],
)
async def test_cloudflare_basic_auth_with_node_buffer(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    path: str,
    auth: tuple[str, str] | str | None,
    status: int,
    text: str,
) -> None:
    """Cloudflare's basic-auth example as published, with `import { Buffer } from
    "node:buffer"` (nodejs_compat): Buffer decodes the UTF-8 credentials from base64."""
    ref = await deploy(api, CLOUDFLARE_BASIC_AUTH, secrets={"PASSWORD": "pässwörd"})
    headers = {}
    if isinstance(auth, tuple):
        credentials = base64.b64encode(":".join(auth).encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    elif auth is not None:
        headers["Authorization"] = auth
    async with client.get(edge.fn_url(ref, path), headers=headers) as response:
        assert response.status == status
        assert await response.text() == text
        if status == 200 and path == "/admin":
            assert response.headers["cache-control"] == "no-store"


# -- Read request body, post JSON --------------------------------------------------------------

READ_BODY = """
async function describe(request) {
  const type = request.headers.get('content-type') || '';
  if (type.includes('application/json')) return JSON.stringify(await request.json());
  if (type.includes('application/text') || type.startsWith('text/')) return request.text();
  if (type.includes('form')) {
    const fields = {};
    for (const [key, value] of (await request.formData()).entries()) {
      fields[key] = typeof value === 'string'
        ? value
        : `file ${value.name} (${value.size} bytes, ${value.type}): ${await value.text()}`;
    }
    return JSON.stringify(fields);
  }
  return `a file of ${(await request.arrayBuffer()).byteLength} bytes`;
}

export default {
  async fetch(request) {
    if (request.method === 'POST') return new Response(await describe(request));
    return new Response('The request was a GET');
  },
};
"""


def _multipart() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("name", "Ada")
    form.add_field("upload", b"file body", filename="notes.txt", content_type="text/plain")
    return form


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("json", '{"a":1,"b":["x"]}'),
        ("text", "plain words ✓"),
        ("application/text", "app text"),
        ("urlencoded", '{"name":"Ada Lovelace","lang":"en"}'),
        ("multipart", '{"name":"Ada","upload":"file notes.txt (9 bytes, text/plain): file body"}'),
        ("binary", "a file of 256 bytes"),
        ("get", "The request was a GET"),
    ],
)
async def test_read_request_body(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    kind: str,
    expected: str,
) -> None:
    ref = await deploy(api, READ_BODY)
    url = edge.fn_url(ref, "/")
    sent: dict[str, Any] = {
        "json": {"json": {"a": 1, "b": ["x"]}},
        "text": {"data": "plain words ✓".encode(), "headers": {"Content-Type": "text/plain"}},
        "application/text": {"data": b"app text", "headers": {"Content-Type": "application/text"}},
        "urlencoded": {"data": {"name": "Ada Lovelace", "lang": "en"}},
        "multipart": {"data": _multipart()},
        "binary": {
            "data": bytes(range(256)),
            "headers": {"Content-Type": "application/octet-stream"},
        },
    }.get(kind, {})
    method = "GET" if kind == "get" else "POST"
    async with client.request(method, url, **sent) as response:
        assert response.status == 200
        assert await response.text() == expected


POST_JSON = """
async function gather(response) {
  const type = response.headers.get('content-type') || '';
  if (type.includes('application/json')) return JSON.stringify(await response.json());
  return response.text();
}

export default {
  async fetch(request, env) {
    const body = { results: ['default data to send'], errors: null, msg: 'sent by fetch' };
    const response = await fetch(`${env.ORIGIN}/echo`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json;charset=UTF-8' },
    });
    return new Response(await gather(response), {
      headers: { 'content-type': 'application/json;charset=UTF-8' },
    });
  },
};
"""


async def test_post_json(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, POST_JSON, origin=origin)
    async with client.get(edge.fn_url(ref)) as response:
        assert response.status == 200
        seen = await response.json()
    assert seen["method"] == "POST"
    assert seen["headers"]["content-type"] == "application/json;charset=UTF-8"
    assert json.loads(seen["body"]) == {
        "results": ["default data to send"],
        "errors": None,
        "msg": "sent by fetch",
    }


# -- Cookies -----------------------------------------------------------------------------------

COOKIES = """
function parseCookies(header) {
  const jar = {};
  for (const part of (header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!(name in jar)) jar[name] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return jar;
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/upstream') {
      const upstream = await fetch(`${env.ORIGIN}/cookies`);
      return Response.json({ setCookie: upstream.headers.getSetCookie() });
    }
    const jar = parseCookies(request.headers.get('Cookie'));
    const response = Response.json({ seen: jar });
    if (!jar.visitor) {
      response.headers.append('Set-Cookie', 'visitor=v-1; Path=/; HttpOnly; SameSite=Lax');
      response.headers.append('Set-Cookie', 'theme=dark; Path=/; Max-Age=3600');
    }
    return response;
  },
};
"""


async def test_cookie_parsing_and_setting(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, COOKIES, origin=origin)
    async with client.get(edge.fn_url(ref)) as response:
        assert await response.json() == {"seen": {}}
        assert response.headers.getall("set-cookie") == [
            "visitor=v-1; Path=/; HttpOnly; SameSite=Lax",
            "theme=dark; Path=/; Max-Age=3600",
        ]
    cookie = {"Cookie": "visitor=v-1; theme=dark; note=a%20b"}
    async with client.get(edge.fn_url(ref), headers=cookie) as response:
        assert await response.json() == {"seen": {"visitor": "v-1", "theme": "dark", "note": "a b"}}
        assert "set-cookie" not in response.headers
    async with client.get(edge.fn_url(ref, "/upstream")) as response:
        assert await response.json() == {"setCookie": ["a=1; Path=/", "b=2; Path=/; HttpOnly"]}


# -- CORS header proxy -------------------------------------------------------------------------

CORS_PROXY = """
const corsHeaders = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET,HEAD,POST,OPTIONS',
  'Access-Control-Max-Age': '86400',
};

async function proxy(request, env) {
  const url = new URL(request.url);
  const target = url.searchParams.get('apiurl') || `${env.ORIGIN}/echo`;
  const outgoing = new Request(target, request);
  outgoing.headers.set('Origin', new URL(target).origin);
  const upstream = await fetch(outgoing);
  const response = new Response(upstream.body, upstream);
  response.headers.set('Access-Control-Allow-Origin', url.origin);
  response.headers.append('Vary', 'Origin');
  return response;
}

function options(request) {
  const h = request.headers;
  if (h.get('Origin') !== null && h.get('Access-Control-Request-Method') !== null
      && h.get('Access-Control-Request-Headers') !== null) {
    return new Response(null, {
      headers: { ...corsHeaders, 'Access-Control-Allow-Headers': h.get('Access-Control-Request-Headers') },
    });
  }
  return new Response(null, { headers: { Allow: 'GET, HEAD, POST, OPTIONS' } });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (!url.pathname.startsWith('/corsproxy/')) return new Response('the demo page');
    if (request.method === 'OPTIONS') return options(request);
    if (['GET', 'HEAD', 'POST'].includes(request.method)) return proxy(request, env);
    return new Response(null, { status: 405, statusText: 'Method Not Allowed' });
  },
};
"""


async def test_cors_header_proxy(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, CORS_PROXY, origin=origin)
    base = edge.fn_url(ref, "")
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-token",
    }
    async with client.options(edge.fn_url(ref, "/corsproxy/"), headers=preflight) as response:
        assert response.status == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-allow-methods"] == "GET,HEAD,POST,OPTIONS"
        assert response.headers["access-control-allow-headers"] == "content-type, x-token"
        assert response.headers["access-control-max-age"] == "86400"
    async with client.options(edge.fn_url(ref, "/corsproxy/")) as response:
        assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    apiurl = f"?apiurl={origin.url}/json"
    async with client.get(edge.fn_url(ref, "/corsproxy/" + apiurl)) as response:
        assert response.status == 200
        assert response.headers["access-control-allow-origin"] == base
        assert response.headers["vary"] == "Origin"
        assert await response.json() == {"from": "origin", "path": "/json"}
    async with client.post(edge.fn_url(ref, "/corsproxy/"), json={"k": "v"}) as response:
        seen = await response.json()
        assert seen["method"] == "POST"
        assert json.loads(seen["body"]) == {"k": "v"}
        assert seen["headers"]["origin"] == origin.url
    async with client.head(edge.fn_url(ref, "/corsproxy/" + apiurl)) as response:
        assert response.status == 200
        assert response.headers["access-control-allow-origin"] == base
        assert await response.read() == b""
    async with client.delete(edge.fn_url(ref, "/corsproxy/")) as response:
        assert (response.status, response.reason) == (405, "Method Not Allowed")


# -- Conditional response ----------------------------------------------------------------------

CONDITIONAL_SW = """
addEventListener('fetch', (event) => event.respondWith(decide(event.request)));

async function decide(request) {
  const url = new URL(request.url);
  const agent = request.headers.get('User-Agent') || '';
  if (request.method === 'POST') {
    const type = request.headers.get('content-type') || '';
    if (!type.includes('application/json')) return new Response('Send JSON', { status: 415 });
    const { name } = await request.json();
    return new Response(`Hello, ${name}`);
  }
  if (request.method !== 'GET') return new Response(null, { status: 405 });
  if (agent.includes('bot')) return new Response('Block User Agent containing bot', { status: 403 });
  if (url.pathname.endsWith('.doc')) return new Response('Blocked extension', { status: 403 });
  // Workers' example also checks request.cf.asn: undefined here, so never blocked.
  if (request.cf && request.cf.asn === 64512) return new Response('Blocked ASN', { status: 403 });
  if (request.headers.get('cf-connecting-ip') === '203.0.113.7') {
    return new Response('Blocked IP', { status: 403 });
  }
  return new Response(`Fine: ${request.method} ${url.pathname}`);
}
"""


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "text"),
    [
        ("GET", "/a", {}, None, 200, "Fine: GET /a"),
        (
            "GET",
            "/a",
            {"User-Agent": "crawly-bot/1.0"},
            None,
            403,
            "Block User Agent containing bot",
        ),
        ("GET", "/file.doc", {}, None, 403, "Blocked extension"),
        # The listener replaces a client's CF-Connecting-IP with the real peer: no spoofing.
        ("GET", "/a", {"CF-Connecting-IP": "203.0.113.7"}, None, 200, "Fine: GET /a"),
        ("POST", "/", {"Content-Type": "application/json"}, b'{"name":"Ada"}', 200, "Hello, Ada"),
        ("POST", "/", {"Content-Type": "text/plain"}, b"x", 415, "Send JSON"),
        ("PUT", "/", {}, b"x", 405, ""),
    ],
)
async def test_conditional_response(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    text: str,
) -> None:
    ref = await deploy(api, CONDITIONAL_SW, filename="worker.js")
    async with client.request(method, edge.fn_url(ref, path), headers=headers, data=body) as r:
        assert r.status == status
        assert await r.text() == text


# -- Security headers --------------------------------------------------------------------------

SECURITY_HEADERS = """
const SECURITY = {
  'Content-Security-Policy': "default-src 'self' example.com *.example.com",
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains; preload',
  'Permissions-Policy': 'interest-cohort=()',
  'X-XSS-Protection': '0',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp; report-to="default";',
};
const BLOCKED = ['Public-Key-Pins', 'X-Powered-By', 'X-AspNet-Version'];

export default {
  async fetch(request, env) {
    const upstream = await fetch(`${env.ORIGIN}${new URL(request.url).pathname}`);
    const headers = new Headers(upstream.headers);
    if (headers.has('Content-Type') && !headers.get('Content-Type').includes('text/html')) {
      return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
    }
    for (const [name, value] of Object.entries(SECURITY)) headers.set(name, value);
    for (const name of BLOCKED) headers.delete(name);
    return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
  },
};
"""


async def test_security_headers(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, SECURITY_HEADERS, origin=origin)
    async with client.get(edge.fn_url(ref, "/page")) as response:
        assert response.status == 200
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "x-powered-by" not in response.headers
        assert await response.text() == PAGE
    async with client.get(edge.fn_url(ref, "/image.png")) as response:
        assert response.headers["content-type"] == "image/png"
        assert "x-frame-options" not in response.headers
        assert await response.read() == b"\x89PNG\r\n\x1a\nfake"


# -- Signing requests --------------------------------------------------------------------------

SIGNED = """
const encoder = new TextEncoder();
const toBase64Url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
const fromBase64Url = (text) =>
  Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));

export default {
  async fetch(request, env) {
    const key = await crypto.subtle.importKey(
      'raw', encoder.encode(env.SECRET_DATA), { name: 'HMAC', hash: 'SHA-256' }, false,
      ['sign', 'verify'],
    );
    const url = new URL(request.url);
    if (url.pathname.startsWith('/generate/')) {
      url.pathname = url.pathname.replace('/generate/', '/');
      const expiry = Math.floor(Date.now() / 1000) + Number(url.searchParams.get('ttl') ?? 60);
      url.searchParams.delete('ttl');
      const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${url.pathname}${expiry}`));
      url.searchParams.set('verify', `${expiry}.${toBase64Url(mac)}`);
      return new Response(url.toString());
    }
    const param = url.searchParams.get('verify');
    if (!param) return new Response('Missing query parameter', { status: 403 });
    const [expiryText, macText] = param.split('.');
    const expiry = Number(expiryText);
    let mac;
    try { mac = fromBase64Url(macText ?? ''); } catch { return new Response('Bad MAC', { status: 403 }); }
    const valid = await crypto.subtle.verify(
      'HMAC', key, mac, encoder.encode(`${url.pathname}${expiry}`),
    );
    if (!valid) return new Response('Invalid MAC', { status: 403 });
    if (Date.now() / 1000 > expiry) {
      return new Response(`URL expired at ${new Date(expiry * 1000).toISOString()}`, { status: 403 });
    }
    return new Response(`Access granted to ${url.pathname}`);
  },
};
"""


async def test_signing_requests(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, SIGNED, secrets={"SECRET_DATA": "my secret symmetric key"})

    async def get(url: str) -> tuple[int, str]:
        async with client.get(url) as response:
            return response.status, await response.text()

    status, signed = await get(edge.fn_url(ref, "/generate/files/report.pdf"))
    assert status == 200
    assert signed.startswith(edge.fn_url(ref, "/files/report.pdf?verify="))
    assert await get(signed) == (200, "Access granted to /files/report.pdf")
    assert await get(signed.replace("report.pdf", "other.pdf")) == (403, "Invalid MAC")
    assert (await get(signed[:-3] + "AAA"))[0] == 403
    assert await get(edge.fn_url(ref, "/files/report.pdf")) == (403, "Missing query parameter")
    _, expired = await get(edge.fn_url(ref, "/generate/files/report.pdf?ttl=-5"))
    status, text = await get(expired)
    assert status == 403
    assert re.fullmatch(r"URL expired at \d{4}-\d\d-\d\dT[\d:.]+Z", text)


# -- Hot-link protection -----------------------------------------------------------------------

HOTLINK = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const response = await fetch(`${env.ORIGIN}${url.pathname}`);
    const referer = request.headers.get('Referer');
    const type = response.headers.get('Content-Type') || '';
    if (referer && type.startsWith('image/') && new URL(referer).hostname !== url.hostname) {
      return Response.redirect(new URL('/', request.url).toString(), 302);
    }
    return response;
  },
};
"""


async def test_hot_link_protection(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, HOTLINK, origin=origin)
    image = edge.fn_url(ref, "/image.png")
    for referer in [None, edge.fn_url(ref, "/gallery")]:
        headers = {} if referer is None else {"Referer": referer}
        async with client.get(image, headers=headers, allow_redirects=False) as response:
            assert response.status == 200
            assert response.headers["content-type"] == "image/png"
    foreign = {"Referer": "https://thief.example/page"}
    async with client.get(image, headers=foreign, allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["location"] == edge.fn_url(ref, "/")
    async with client.get(edge.fn_url(ref, "/page"), headers=foreign) as response:
        assert response.status == 200


# -- Aggregate requests, streaming -------------------------------------------------------------

AGGREGATE = """
export default {
  async fetch(request, env) {
    const responses = await Promise.all([
      fetch(`${env.ORIGIN}/json`),
      fetch(`${env.ORIGIN}/other.json`),
    ]);
    const results = await Promise.all(responses.map((r) => r.json()));
    return new Response(JSON.stringify(results), {
      headers: { 'content-type': 'application/json;charset=UTF-8' },
    });
  },
};
"""


async def test_aggregate_requests(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, AGGREGATE, origin=origin)
    async with client.get(edge.fn_url(ref)) as response:
        assert response.status == 200
        assert await response.json() == [
            {"from": "origin", "path": "/json"},
            {"from": "origin", "path": "/other.json"},
        ]


STREAMING = """
export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === '/pipe') {
      const upstream = await fetch(`${env.ORIGIN}/page`);
      const { readable, writable } = new TransformStream();
      upstream.body.pipeTo(writable);
      return new Response(readable, upstream);
    }
    if (pathname === '/upper') {
      const upstream = await fetch(`${env.ORIGIN}/page`);
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      const upper = new TransformStream({
        transform(chunk, controller) {
          controller.enqueue(encoder.encode(decoder.decode(chunk, { stream: true }).toUpperCase()));
        },
      });
      return new Response(upstream.body.pipeThrough(upper), { headers: upstream.headers });
    }
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    ctx.waitUntil((async () => {
      for (let i = 0; i < 3; i++) {
        await writer.write(encoder.encode(`chunk ${i}\\n`));
        await scheduler.wait(30);
      }
      await writer.close();
    })());
    return new Response(readable, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
};
"""


async def test_streaming_responses(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, STREAMING, origin=origin)
    async with client.get(edge.fn_url(ref, "/pipe")) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert await response.text() == PAGE
    async with client.get(edge.fn_url(ref, "/upper")) as response:
        assert await response.text() == PAGE.upper()
    async with client.get(edge.fn_url(ref, "/generated")) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        first = await response.content.readline()
        assert first == b"chunk 0\n"
        assert await response.read() == b"chunk 1\nchunk 2\n"


# -- A/B testing with cookies ------------------------------------------------------------------

AB_TEST = """
const NAME = 'myExampleWorkersABTest';
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/control') || url.pathname.startsWith('/test')) {
      return fetch(`${env.ORIGIN}${url.pathname}`);
    }
    const cookie = request.headers.get('cookie') || '';
    let group = null;
    if (cookie.includes(`${NAME}=control`)) group = 'control';
    else if (cookie.includes(`${NAME}=test`)) group = 'test';
    const assigned = group === null;
    if (assigned) group = Math.random() < 0.5 ? 'control' : 'test';
    const upstream = await fetch(`${env.ORIGIN}/${group}`);
    const response = new Response(upstream.body, upstream);
    if (assigned) response.headers.append('Set-Cookie', `${NAME}=${group}; path=/`);
    return response;
  },
};
"""


async def test_ab_testing_with_cookies(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, AB_TEST, origin=origin)
    for group in ["control", "test"]:
        cookie = {"Cookie": f"other=1; myExampleWorkersABTest={group}"}
        async with client.get(edge.fn_url(ref), headers=cookie) as response:
            assert await response.text() == f"{group} page"
            assert "set-cookie" not in response.headers
    groups = set()
    for _ in range(12):
        async with client.get(edge.fn_url(ref)) as response:
            text = await response.text()
            (cookie,) = response.headers.getall("set-cookie")
            group = text.removesuffix(" page")
            assert cookie == f"myExampleWorkersABTest={group}; path=/"
            groups.add(group)
    assert groups <= {"control", "test"}
    async with client.get(edge.fn_url(ref, "/test")) as response:
        assert await response.text() == "test page"


# -- Rewrite links (HTMLRewriter) --------------------------------------------------------------

REWRITE_LINKS = """
const OLD = 'http://old.example';
const NEW = 'https://new.example';

class AttributeRewriter {
  constructor(attribute) { this.attribute = attribute; }
  element(element) {
    const value = element.getAttribute(this.attribute);
    if (value) element.setAttribute(this.attribute, value.replace(OLD, NEW));
  }
}

export default {
  async fetch(request, env) {
    const upstream = await fetch(`${env.ORIGIN}${new URL(request.url).pathname}`);
    const type = upstream.headers.get('Content-Type') || '';
    if (!type.startsWith('text/html')) return upstream;
    return new HTMLRewriter()
      .on('a', new AttributeRewriter('href'))
      .on('img', new AttributeRewriter('src'))
      .transform(upstream);
  },
};
"""


async def test_rewrite_links(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, REWRITE_LINKS, origin=origin)
    async with client.get(edge.fn_url(ref, "/page")) as response:
        assert response.status == 200
        assert await response.text() == PAGE.replace("http://old.example", "https://new.example")
    async with client.get(edge.fn_url(ref, "/json")) as response:
        assert await response.json() == {"from": "origin", "path": "/json"}


# -- Logging headers ---------------------------------------------------------------------------

LOGGING_HEADERS = """
addEventListener('fetch', (event) => {
  const { headers } = event.request;
  // What the example warns of: Headers keep no enumerable properties, so it shows as empty.
  console.log(headers);
  console.log(new Map(headers));
  console.log(JSON.stringify(Object.fromEntries(headers)));
  console.log(JSON.stringify([...headers]));
  event.respondWith(new Response('Hello world'));
});
"""


async def test_logging_headers(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, LOGGING_HEADERS, filename="worker.js")
    async with client.get(edge.fn_url(ref), headers={"X-Trace": "abc"}) as response:
        assert await response.text() == "Hello world"
        run_id = response.headers["x-vortex-run-id"]
    lines = [line["message"] for line in (await recorded(api, ref, run_id))["logs"]]
    assert len(lines) == 4
    opaque, as_map, as_object, as_pairs = lines
    assert opaque == "Headers {}"
    assert as_map.startswith("Map(")
    assert "'x-trace' => 'abc'" in as_map
    assert json.loads(as_object)["x-trace"] == "abc"
    assert ["x-trace", "abc"] in json.loads(as_pairs)


# -- Cron triggers -----------------------------------------------------------------------------

CRONS = """
export default {
  async scheduled(event, env, ctx) {
    switch (event.cron) {
      case '*/3 * * * *':
        await env.KV.put('last', 'every three minutes');
        break;
      case '0 9 * * mon-fri':
        await env.KV.put('last', 'weekday mornings');
        break;
      default:
        await env.KV.put('last', `unknown: ${event.cron}`);
    }
    console.log(`cron processed: ${event.cron}`);
  },
  async fetch(request, env) {
    return new Response((await env.KV.get('last')) ?? 'nothing yet');
  },
};
"""


async def test_multiple_cron_triggers_share_one_handler(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, CRONS, schedule="*/3 * * * *")
    async with client.get(edge.fn_url(ref)) as response:
        assert await response.text() == "nothing yet"
    for cron, stored in [
        ("*/3 * * * *", "every three minutes"),
        ("0 9 * * mon-fri", "weekday mornings"),
        ("1 1 1 1 *", "unknown: 1 1 1 1 *"),
    ]:
        async with api.post(f"/functions/{ref}/scheduled", json={"cron": cron}) as answer:
            body = await answer.json()
            assert answer.status == 200, body
            assert [line["message"] for line in body["logs"]] == [f"cron processed: {cron}"]
        async with client.get(edge.fn_url(ref)) as response:
            assert await response.text() == stored


async def test_several_schedules_can_be_deployed(api: aiohttp.ClientSession) -> None:
    crons = ["*/3 * * * *", "0 9 * * mon-fri"]
    # wrangler's triggers.crons: a list, as "schedules" or (for the same body) "schedule".
    for key in ("schedules", "schedule"):
        async with api.post(
            "/deploy", json={"code": CRONS, "filename": "index.mjs", key: crons}
        ) as answer:
            assert answer.status == 200, await answer.text()
            ref = (await answer.json())["function_id"]
        async with api.get(f"/functions/{ref}") as answer:
            shown = await answer.json()
        assert shown["schedules"] == crons and shown["schedule"] == crons[0]
    # Without a "cron", a run on demand reports the first, as Workers' dashboard would one.
    async with api.post(f"/functions/{ref}/scheduled", json={}) as answer:
        body = await answer.json()
        assert [line["message"] for line in body["logs"]] == [f"cron processed: {crons[0]}"]


# -- Cache API (a no-op here) ------------------------------------------------------------------

CACHE_API = """
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const cacheKey = new Request(url.toString(), request);
    const cache = caches.default;
    let response = await cache.match(cacheKey);
    let source = 'cache';
    if (!response) {
      source = 'origin';
      response = await fetch(`${env.ORIGIN}/json`);
      response = new Response(response.body, response);
      response.headers.append('Cache-Control', 's-maxage=10');
      ctx.waitUntil(cache.put(cacheKey, response.clone()));
    }
    response.headers.set('x-source', source);
    const named = await caches.open('custom:cache');
    await named.put('https://k.example/x', new Response('kept?'));
    response.headers.set('x-named-hit', String((await named.match('https://k.example/x')) !== undefined));
    response.headers.set('x-deleted', String(await cache.delete(cacheKey)));
    return response;
  },
};
"""


async def test_cache_api_degrades_to_always_missing(
    edge: ServerProcess,
    api: aiohttp.ClientSession,
    client: aiohttp.ClientSession,
    origin: Origin,
) -> None:
    ref = await deploy(api, CACHE_API, origin=origin)
    before = origin.hits["/json"]
    for _ in range(2):
        async with client.get(edge.fn_url(ref, "/c")) as response:
            assert response.status == 200
            assert response.headers["x-source"] == "origin"
            assert response.headers["x-named-hit"] == "false"
            assert response.headers["x-deleted"] == "false"
            assert response.headers["cache-control"] == "s-maxage=10"
            assert await response.json() == {"from": "origin", "path": "/json"}
    assert origin.hits["/json"] - before == 2


# -- Geolocation and the rest of request.cf ----------------------------------------------------

GEOLOCATION = """
const REDIRECTS = { US: 'https://us.example.com', EU: 'https://eu.example.com' };
export default {
  async fetch(request) {
    const cf = request.cf;
    const { pathname } = new URL(request.url);
    if (pathname === '/country') {
      const target = REDIRECTS[cf.country];
      if (target) return Response.redirect(target, 302);
      return new Response(`no redirect for ${cf.country}`);
    }
    if (pathname === '/tls') {
      const tls = cf.tlsVersion;
      if (tls !== 'TLSv1.2' && tls !== 'TLSv1.3') {
        return new Response('Please use TLS version 1.2 or higher.', { status: 403 });
      }
      return new Response('fine');
    }
    if (pathname === '/clock') {
      const at = new Date(Date.UTC(2024, 6, 1, 12, 0, 0));
      const zone = cf.timezone ?? 'America/Chicago';
      return new Response(`${at.toLocaleTimeString('en-US', { timeZone: zone })} in ${zone}`);
    }
    const html = `<p>Colo: ${cf.colo}</p><p>Country: ${cf.country}</p><p>City: ${cf.city}</p>
<p>Continent: ${cf.continent}</p><p>Latitude: ${cf.latitude}</p><p>Timezone: ${cf.timezone}</p>
<p>Protocol: ${cf.httpProtocol}</p>`;
    return new Response(html, { headers: { 'content-type': 'text/html;charset=UTF-8' } });
  },
};
"""


async def test_geolocation_fields_are_undefined(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    """No edge location nor geolocation database: the fields read as `undefined` and the page
    still renders; a redirect by country falls through; a check of `tlsVersion` refuses every
    request (the listener speaks no TLS)."""
    ref = await deploy(api, GEOLOCATION)
    async with client.get(edge.fn_url(ref)) as response:
        assert response.status == 200
        page = await response.text()
    assert "<p>Country: undefined</p>" in page
    assert "<p>City: undefined</p>" in page
    assert "<p>Protocol: HTTP/1.1</p>" in page
    async with client.get(edge.fn_url(ref, "/country"), allow_redirects=False) as response:
        assert (response.status, await response.text()) == (200, "no redirect for undefined")
    async with client.get(edge.fn_url(ref, "/tls")) as response:
        assert response.status == 403
    async with client.get(edge.fn_url(ref, "/clock")) as response:
        assert await response.text() == "7:00:00 AM in America/Chicago"


# -- WebSockets --------------------------------------------------------------------------------

WEBSOCKET_ECHO = """
export default {
  async fetch(request) {
    if (request.headers.get('Upgrade') !== 'websocket') {
      return new Response('Expected Upgrade: websocket', { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    server.accept();
    server.addEventListener('message', (event) => {
      server.send(typeof event.data === 'string' ? `echo: ${event.data}` : event.data);
    });
    server.addEventListener('close', (event) => server.close(event.code, 'closing'));
    return new Response(null, { status: 101, webSocket: client });
  },
};
"""


async def test_websocket_echo(
    edge: ServerProcess, api: aiohttp.ClientSession, client: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, WEBSOCKET_ECHO)
    async with client.get(edge.fn_url(ref)) as response:
        assert response.status == 426
        assert await response.text() == "Expected Upgrade: websocket"
    async with client.ws_connect(edge.fn_url(ref, "/ws")) as ws:
        await ws.send_str("hello")
        assert await ws.receive_str(timeout=5) == "echo: hello"
        await ws.send_bytes(b"\x00\x01")
        assert await ws.receive_bytes(timeout=5) == b"\x00\x01"
        await ws.close(code=1000)
        assert ws.close_code == 1000
