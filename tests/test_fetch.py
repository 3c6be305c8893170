"""Outbound fetch(): denied by default, allowed per function by host, private addresses refused
unless the operator opts in, redirects re-checked, and the count, time and size limits. The
upstream is a local aiohttp server started by the test."""

from __future__ import annotations

import asyncio
import functools
import gzip
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import brotli
import pytest
from aiohttp import web

from tests.conftest import TEST_SERVER_ENV
from tests.server import ServerProcess, start_server, stop_and_check
from tests.threaded_app import app_in_thread

FETCH_ENV = {
    **TEST_SERVER_ENV,
    "VORTEX_FETCH_ALLOW_PRIVATE": "1",
    "VORTEX_FETCH_MAX_REQUESTS": "5",
    "VORTEX_FETCH_TIMEOUT_MS": "1000",
    "VORTEX_FETCH_MAX_RESPONSE_BYTES": "100000",
}


@dataclass
class Upstream:
    port: int
    requests: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _upstream_app(requests: list[dict[str, Any]]) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen = {
            "method": request.method,
            "path": request.path_qs,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body.decode(errors="replace"),
        }
        requests.append(seen)
        return web.json_response(seen, headers={"X-Upstream": "yes"})

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def redirect_with(request: web.Request) -> web.Response:
        return web.Response(
            status=int(request.match_info["status"]), headers={"Location": request.query["to"]}
        )

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.query["n"]))

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late")

    async def packed(request: web.Request) -> web.Response:
        """A compressing origin: gzip whatever the request asked for."""
        requests.append(
            {"path": request.path, "accept-encoding": request.headers.get("Accept-Encoding")}
        )
        body = gzip.compress(PACKED_TEXT.encode())
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"}
        )

    async def bomb(request: web.Request) -> web.Response:
        """1 GiB of zeros in a few hundred KiB, in the encoding asked for."""
        encoding = request.match_info["encoding"]
        return web.Response(body=_bomb(encoding), headers={"Content-Encoding": encoding})

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status body")

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/redirect", redirect)
    app.router.add_route("*", "/redirect/{status}", redirect_with)
    app.router.add_get("/loop", loop)
    app.router.add_get("/big", big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/packed", packed)
    app.router.add_get("/bomb/{encoding}", bomb)
    return app


@functools.cache
def _bomb(encoding: str) -> bytes:
    zeros = bytes(1 << 20)
    if encoding == "br":
        packer = brotli.Compressor(quality=1)
        parts = [packer.process(zeros) for _ in range(1024)]
        return b"".join(parts) + packer.finish()
    stream = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(stream.compress(zeros) for _ in range(1024)) + stream.flush()


def _peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    requests: list[dict[str, Any]] = []
    with app_in_thread(_upstream_app(requests)) as port:
        yield Upstream(port, requests)


@pytest.fixture(scope="module")
def fetch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose operator let functions reach private addresses (the upstream is local)."""
    proc = start_server(tmp_path_factory.mktemp("fetch"), FETCH_ENV)
    yield proc
    stop_and_check(proc)


Runner = Callable[..., Awaitable[dict[str, Any]]]


def _runner(server: ServerProcess) -> Runner:
    async def _run(code: str, **deploy: Any) -> dict[str, Any]:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            async with http.post("/deploy", json={"code": code, **deploy}) as response:
                body = await response.json()
                assert response.status == 200, body
            async with http.post(f"/execute/{body['function_id']}") as response:
                result: dict[str, Any] = await response.json()
                return result

    return _run


@pytest.fixture
async def run_with(fetch_server: ServerProcess) -> Any:
    return _runner(fetch_server)


async def outcome_of(run: Runner, expr: str, **deploy: Any) -> Any:
    """Runs ``await expr`` in a script: its value, or "Name: message" if it threw."""
    body = await run(
        f"try {{ Vortex.return(await (async () => {{ {expr} }})()); }}"
        " catch (e) { Vortex.return(e.name + ': ' + e.message); }",
        **deploy,
    )
    assert "error" not in body, body
    return body["output"]


async def test_fetch_is_denied_without_an_allow_list(run_with: Runner, upstream: Upstream) -> None:
    out = await outcome_of(run_with, f"return (await fetch('{upstream.url}/echo')).status;")
    assert out == (
        "TypeError: fetch to 127.0.0.1 is not allowed for this function: allow the host at deploy "
        '(vortex deploy --allow-host 127.0.0.1, or "allow_hosts")'
    )
    out = await outcome_of(
        run_with, "return (await fetch('https://example.com/')).status;", allow_hosts=["127.0.0.1"]
    )
    assert out == (
        "TypeError: fetch to example.com is not allowed for this function: allow the host at deploy "
        '(vortex deploy --allow-host example.com, or "allow_hosts")'
    )


async def test_allowed_fetch_round_trips_method_headers_and_body(
    run_with: Runner, upstream: Upstream
) -> None:
    out = await outcome_of(
        run_with,
        f"""
        const response = await fetch('{upstream.url}/echo?x=1', {{
          method: 'POST', body: JSON.stringify({{ a: 1 }}),
          headers: {{ 'Content-Type': 'application/json', 'X-Custom': 'v' }},
        }});
        const seen = await response.json();
        return {{
          status: response.status, ok: response.ok, url: response.url, redirected: response.redirected,
          upstream: response.headers.get('x-upstream'), type: response.headers.get('content-type'),
          method: seen.method, path: seen.path, custom: seen.headers['x-custom'], body: seen.body,
          contentType: seen.headers['content-type'],
          immutable: (() => {{ try {{ response.headers.set('a', 'b'); }} catch (e) {{ return e.name; }} }})(),
        }};
        """,
        allow_hosts=["127.0.0.1"],
    )
    assert out == {
        "status": 200,
        "ok": True,
        "url": f"{upstream.url}/echo?x=1",
        "redirected": False,
        "upstream": "yes",
        "type": "application/json; charset=utf-8",
        "method": "POST",
        "path": "/echo?x=1",
        "custom": "v",
        "body": '{"a":1}',
        "contentType": "application/json",
        "immutable": "TypeError",
    }


async def test_error_statuses_are_responses_not_errors(
    run_with: Runner, upstream: Upstream
) -> None:
    out = await outcome_of(
        run_with,
        f"const r = await fetch(new Request('{upstream.url}/status/503')); return [r.status, r.ok, await r.text()];",
        allow_hosts=["127.0.0.1"],
    )
    assert out == [503, False, "status body"]


async def test_redirects_are_followed_and_checked_again(
    run_with: Runner, upstream: Upstream
) -> None:
    to_allowed = f"{upstream.url}/redirect?to=/echo"
    out = await outcome_of(
        run_with,
        f"const r = await fetch('{to_allowed}'); return [r.status, r.redirected, r.url];",
        allow_hosts=["127.0.0.1"],
    )
    assert out == [200, True, f"{upstream.url}/echo"]
    to_other = f"{upstream.url}/redirect?to=http://localhost:{upstream.port}/echo"
    out = await outcome_of(
        run_with, f"return (await fetch('{to_other}')).status;", allow_hosts=["127.0.0.1"]
    )
    assert out == (
        "TypeError: fetch to localhost is not allowed for this function: allow the host at deploy "
        '(vortex deploy --allow-host localhost, or "allow_hosts")'
    )
    out = await outcome_of(
        run_with,
        f"const r = await fetch('{to_allowed}', {{ redirect: 'manual' }}); return [r.status, r.headers.get('location')];",
        allow_hosts=["127.0.0.1"],
    )
    assert out == [302, "/echo"]
    out = await outcome_of(
        run_with,
        f"return (await fetch('{to_allowed}', {{ redirect: 'error' }})).status;",
        allow_hosts=["127.0.0.1"],
    )
    assert out == 'TypeError: fetch to 127.0.0.1 was redirected, and its redirect mode is "error"'
    out = await outcome_of(
        run_with, f"return (await fetch('{upstream.url}/loop')).status;", allow_hosts=["127.0.0.1"]
    )
    assert out == "TypeError: fetch to 127.0.0.1 exceeded 20 redirects"


async def test_a_303_after_post_becomes_a_get_without_body(
    run_with: Runner, upstream: Upstream
) -> None:
    out = await outcome_of(
        run_with,
        f"""
        const r = await fetch('{upstream.url}/redirect/303?to=/echo', {{ method: 'POST', body: 'gone', headers: {{ authorization: 'kept' }} }});
        const seen = await r.json();
        return [seen.method, seen.body, seen.headers.authorization];
        """,
        allow_hosts=["127.0.0.1"],
    )
    assert out == ["GET", "", "kept"]


async def test_subrequest_count_time_and_size_limits(run_with: Runner, upstream: Upstream) -> None:
    out = await outcome_of(
        run_with,
        f"""
        const results = [];
        for (let i = 0; i < 6; i += 1) {{
          try {{ results.push((await fetch('{upstream.url}/echo')).status); }} catch (e) {{ results.push(e.message); }}
        }}
        return results;
        """,
        allow_hosts=["127.0.0.1"],
    )
    assert out == [200] * 5 + ["Too many subrequests: the limit is 5 per invocation"]
    out = await outcome_of(
        run_with, f"return (await fetch('{upstream.url}/slow')).status;", allow_hosts=["127.0.0.1"]
    )
    assert out == "TypeError: fetch to 127.0.0.1 timed out after 1000 ms"
    out = await outcome_of(
        run_with,
        f"return (await (await fetch('{upstream.url}/big?n=100000')).arrayBuffer()).byteLength;",
        allow_hosts=["127.0.0.1"],
    )
    assert out == 100000
    out = await outcome_of(
        run_with,
        f"return (await fetch('{upstream.url}/big?n=100001')).status;",
        allow_hosts=["127.0.0.1"],
    )
    assert out == "TypeError: fetch to 127.0.0.1: the response body is larger than 100000 bytes"


async def test_an_origins_compression_bomb_stops_at_the_size_limit(
    fetch_server: ServerProcess, run_with: Runner, upstream: Upstream
) -> None:
    """The server decodes an origin's gzip or br (the encodings it asks for) a bounded chunk at
    a time, and stops at the response limit: 1 GiB of zeros in ~1 MiB never inflates whole in
    the server process, whose peak memory barely moves. brotli before 1.2 had no bound."""
    for encoding in ("br", "gzip"):
        _bomb(encoding)  # made before the measure, in this process
        peak = _peak_rss_mib(fetch_server.process.pid)
        out = await outcome_of(
            run_with,
            f"return (await fetch('{upstream.url}/bomb/{encoding}')).status;",
            allow_hosts=["127.0.0.1"],
        )
        assert out == "TypeError: fetch to 127.0.0.1: the response body is larger than 100000 bytes"
        grown = _peak_rss_mib(fetch_server.process.pid) - peak
        assert grown < 64, (encoding, grown)


async def test_aborting_a_fetch(run_with: Runner, upstream: Upstream) -> None:
    out = await outcome_of(
        run_with,
        f"""
        const started = Date.now();
        try {{ await fetch('{upstream.url}/slow', {{ signal: AbortSignal.timeout(100) }}); }}
        catch (e) {{ return [e.name, Date.now() - started < 900]; }}
        """,
        allow_hosts=["127.0.0.1"],
    )
    assert out == ["TimeoutError", True]


async def test_a_fetch_in_flight_keeps_a_script_alive(run_with: Runner, upstream: Upstream) -> None:
    body = await run_with(
        f"fetch('{upstream.url}/echo').then((r) => r.json()).then((seen) => Vortex.return(seen.method));",
        allow_hosts=["127.0.0.1"],
    )
    assert body["output"] == "GET"


async def test_fetch_from_a_module_function(
    fetch_server: ServerProcess, upstream: Upstream
) -> None:
    async with aiohttp.ClientSession(base_url=fetch_server.url) as http:
        code = (
            "export default {\n"
            "  async fetch(request, env) {\n"
            f"    const r = await fetch('{upstream.url}/echo', {{ headers: {{ 'x-token': env.TOKEN }} }});\n"
            "    const seen = await r.json();\n"
            "    return new Response('upstream saw ' + seen.headers['x-token']);\n"
            "  },\n"
            "};\n"
        )
        payload = {"code": code, "allow_hosts": ["127.0.0.1"], "secrets": {"TOKEN": "t0k"}}
        async with http.post("/deploy", json=payload) as response:
            function_id = (await response.json())["function_id"]
        async with http.get(fetch_server.fn_url(function_id)) as response:
            assert await response.text() == "upstream saw t0k"


PACKED_TEXT = "compressed by the origin " * 30


async def test_a_compressing_origin_passed_on_reaches_the_client_compressed(
    fetch_server: ServerProcess, upstream: Upstream
) -> None:
    """The code reads the origin's body decompressed, its Content-Encoding kept, and
    ``return fetch(origin)`` reaches the client as gzip bytes that decode (workerd's way). The
    origin is asked for the encodings the server decodes, not the client's (zstd here)."""
    code = (
        "export default {\n"
        "  async fetch(request) {\n"
        f"    const init = {{ headers: {{ 'accept-encoding': 'zstd' }} }};\n"
        "    if (new URL(request.url).pathname === '/read') {\n"
        f"      const r = await fetch('{upstream.url}/packed', init);\n"
        "      return Response.json([r.headers.get('content-encoding'), (await r.text()).length]);\n"
        "    }\n"
        f"    return fetch('{upstream.url}/packed', init);\n"
        "  },\n"
        "};\n"
    )
    async with aiohttp.ClientSession(base_url=fetch_server.url) as http:
        payload = {"code": code, "filename": "index.mjs", "allow_hosts": ["127.0.0.1"]}
        async with http.post("/deploy", json=payload) as response:
            function_id = (await response.json())["function_id"]
        async with http.get(fetch_server.fn_url(function_id, "/read")) as response:
            assert await response.json() == ["gzip", len(PACKED_TEXT)]
    async with (
        aiohttp.ClientSession(auto_decompress=False) as raw,
        raw.get(fetch_server.fn_url(function_id)) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await response.read()).decode() == PACKED_TEXT
    asked = [seen["accept-encoding"] for seen in upstream.requests if seen.get("path") == "/packed"]
    assert asked and all("gzip" in value and "zstd" not in value for value in asked), asked


async def test_every_fetch_carries_one_hop_more_than_its_runs_request(
    fetch_server: ServerProcess, upstream: Upstream
) -> None:
    """``x-vortex-loop``: 1 from a run no request started, the request's count + 1 from a
    listener run; a function cannot set it itself."""
    out = await outcome_of(
        _runner(fetch_server),
        f"""
        const seen = await (await fetch('{upstream.url}/echo', {{
          headers: {{ 'X-Vortex-Loop': '0' }} }})).json();
        return seen.headers['x-vortex-loop'];
        """,
        allow_hosts=["127.0.0.1"],
    )
    assert out == "1"
    code = (
        "export default {\n"
        "  async fetch(request) {\n"
        f"    const r = await fetch('{upstream.url}/echo', {{ headers: request.headers }});\n"
        "    return new Response((await r.json()).headers['x-vortex-loop']);\n"
        "  },\n"
        "};\n"
    )
    async with aiohttp.ClientSession(base_url=fetch_server.url) as http:
        async with http.post(
            "/deploy", json={"code": code, "filename": "index.mjs", "allow_hosts": ["127.0.0.1"]}
        ) as response:
            function_id = (await response.json())["function_id"]
        url = fetch_server.fn_url(function_id)
        for sent, expected in ((None, "1"), ("0", "1"), ("7", "8"), ("x", "1"), ("15", "16")):
            headers = {} if sent is None else {"X-Vortex-Loop": sent}
            async with http.get(url, headers=headers) as response:
                assert (response.status, await response.text()) == (200, expected), sent
        for sent in ("16", "99", "1" * 5000):
            async with http.get(url, headers={"X-Vortex-Loop": sent}) as response:
                assert response.status == 508, sent
                assert (await response.json())["error"]["code"] == "loop_detected"


LOOP = """
export default {
  async fetch(request, env) {
    const hops = request.headers.get('x-vortex-loop');
    const inner = await fetch(env.SELF, { headers: { host: new URL(request.url).host } });
    return Response.json({ hops, status: inner.status, inner: await inner.json() });
  },
};
"""


async def test_a_function_that_fetches_itself_through_its_route_stops_at_16_runs(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """The loop the hop count exists for: a route whose host is in the function's allow-list
    (here the listener's address, with the route's Host, as a proxy in front would send it)."""
    server = server_factory({"VORTEX_FETCH_ALLOW_PRIVATE": "1", "VORTEX_WALL_LIMIT_MS": "20000"})
    host = f"loop-{uuid.uuid4().hex[:8]}.example.com"
    name = f"loop-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(base_url=server.url) as http:
        deploy = {
            "code": LOOP,
            "filename": "index.mjs",
            "name": name,
            "routes": [f"{host}/*"],
            "allow_hosts": ["127.0.0.1"],
            "env": {"SELF": f"http://127.0.0.1:{server.functions_port}/again"},
        }
        async with http.post("/deploy", json=deploy) as response:
            assert response.status == 200, await response.text()
        started = time.monotonic()
        async with http.get(
            f"http://127.0.0.1:{server.functions_port}/", headers={"Host": host}
        ) as response:
            assert response.status == 200, await response.text()
            answer = await response.json()
        elapsed = time.monotonic() - started
        chain = []
        while "hops" in answer:
            chain.append((answer["hops"], answer["status"]))
            answer = answer["inner"]
        assert chain == [(None if i == 0 else str(i), 508 if i == 15 else 200) for i in range(16)]
        assert answer["error"]["code"] == "loop_detected"
        runs: list[Any] = []
        for _ in range(50):  # records reach the history in batches
            async with http.get(f"/functions/{name}/runs") as response:
                runs = (await response.json())["runs"]
            if len(runs) >= 16:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        async with http.get(f"/functions/{name}/runs") as response:
            runs = (await response.json())["runs"]
        assert len(runs) == 16
        print(f"16 runs of the loop in {elapsed * 1000:.0f} ms")


async def test_private_addresses_are_refused_unless_the_operator_opts_in(
    run: Callable[[str], Awaitable[dict[str, Any]]],
    http: aiohttp.ClientSession,
    upstream: Upstream,
) -> None:
    # The shared test server has no VORTEX_FETCH_ALLOW_PRIVATE.
    async def attempt(url: str, hosts: list[str]) -> Any:
        async with http.post(
            "/deploy",
            json={
                "code": f"try {{ await fetch('{url}'); Vortex.return('fetched'); }} catch (e) {{ Vortex.return(e.message); }}",
                "allow_hosts": hosts,
            },
        ) as response:
            function_id = (await response.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as response:
            return (await response.json())["output"]

    assert (
        await attempt(f"{upstream.url}/echo", ["127.0.0.1"])
        == "fetch to 127.0.0.1 is refused: it is a loopback address"
    )
    assert (
        await attempt(f"http://localhost:{upstream.port}/echo", ["localhost"])
        == "fetch to localhost is refused: it resolves to 127.0.0.1, a loopback address"
    )
    assert (
        await attempt("http://169.254.169.254/latest/meta-data/", ["*"])
        == "fetch to 169.254.169.254 is refused: it is a cloud metadata address"
    )
    assert (
        await attempt("http://[fd00:ec2::254]/", ["*"])
        == "fetch to fd00:ec2::254 is refused: it is a cloud metadata address"
    )
    assert (
        await attempt("http://10.1.2.3/", ["10.1.2.3"])
        == "fetch to 10.1.2.3 is refused: it is a private address"
    )
    assert (
        await attempt("http://[::ffff:127.0.0.1]/", ["*"])
        == "fetch to ::ffff:7f00:1 is refused: it is a loopback address"
    )
    assert await attempt("ftp://example.com/", ["*"]) == (
        "fetch: the scheme of ftp URLs is not supported (only http and https)"
    )


CARRYING_IPV4 = [
    ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1", "a loopback address"),  # NAT64
    ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe", "a cloud metadata address"),
    ("http://[::7f00:1]/", "::7f00:1", "a loopback address"),  # IPv4-compatible
    ("http://[::a01:203]/", "::a01:203", "a private address"),
    ("http://[2002:7f00:1::1]/", "2002:7f00:1::1", "a loopback address"),  # 6to4
    ("http://[2002:a9fe:a9fe::]/", "2002:a9fe:a9fe::", "a cloud metadata address"),
    ("http://[::ffff:0:a01:203]/", "::ffff:0:a01:203", "a private address"),  # translated
    (
        "http://[64:ff9b:1::8.8.8.8]/",
        "64:ff9b:1::808:808",
        "a private address (a local NAT64 prefix)",
    ),
    # Teredo (RFC 4380): 2001:0:<server>:<flags>:<port>:<client>, the client's bits inverted;
    # a Teredo client reaches both IPv4 addresses.
    (
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "a loopback address",
    ),
    (
        "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",
        "2001:0:4136:e378:8000:63bf:5601:5601",
        "a cloud metadata address",
    ),
    (
        "http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/",
        "2001:0:a00:1:8000:63bf:f7f7:f7f7",
        "a private address",
    ),
]


@pytest.mark.parametrize(("url", "shown", "why"), CARRYING_IPV4)
async def test_ipv6_addresses_carrying_ipv4_are_judged_by_it(
    run: Callable[[str], Awaitable[dict[str, Any]]],
    http: aiohttp.ClientSession,
    url: str,
    shown: str,
    why: str,
) -> None:
    code = f"try {{ await fetch('{url}'); Vortex.return('fetched'); }} catch (e) {{ Vortex.return(e.message); }}"
    async with http.post("/deploy", json={"code": code, "allow_hosts": ["*"]}) as response:
        function_id = (await response.json())["function_id"]
    async with http.post(f"/execute/{function_id}") as response:
        assert (await response.json())["output"] == f"fetch to {shown} is refused: it is {why}"


def test_global_ipv4_behind_a_translator_may_be_reached() -> None:
    import ipaddress

    from vortex.outbound.policy import address_problem

    for text in (
        "64:ff9b::808:808",
        "2002:808:808::1",
        "::ffff:8.8.8.8",
        "2606:4700::1111",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server 65.54.227.120, client 8.8.8.8
    ):
        assert address_problem(ipaddress.ip_address(text), False) is None, text
    assert address_problem(ipaddress.ip_address("::1"), False) == "a loopback address"


async def test_allow_lists_are_checked_at_deploy(http: aiohttp.ClientSession) -> None:
    for hosts in (
        ["http://example.com"],
        ["exa mple.com"],
        ["example.com:8080"],
        "example.com",
        [1],
    ):
        async with http.post("/deploy", json={"code": "1", "allow_hosts": hosts}) as response:
            assert response.status == 400, hosts
            assert (await response.json())["error"]["code"] == "invalid_request"
    async with http.post(
        "/deploy",
        json={"code": "1", "allow_hosts": ["API.Example.com", "*.example.org", "münchen.de"]},
    ) as response:
        function_id = (await response.json())["function_id"]
    async with http.get(f"/functions/{function_id}") as response:
        assert (await response.json())["allow_hosts"] == [
            "api.example.com",
            "*.example.org",
            "xn--mnchen-3ya.de",
        ]


def test_host_patterns_match_as_documented() -> None:
    from vortex.outbound.policy import host_allowed, normalize_patterns

    patterns = normalize_patterns(["api.example.com", "*.example.org", "10.0.0.1", "[::1]"])
    assert host_allowed("api.example.com", patterns)
    assert host_allowed("API.EXAMPLE.COM.", patterns)
    assert not host_allowed("example.com", patterns)
    assert not host_allowed("evil-api.example.com", patterns)
    assert host_allowed("a.example.org", patterns)
    assert host_allowed("a.b.example.org", patterns)
    assert not host_allowed("example.org", patterns)
    assert not host_allowed("badexample.org", patterns)
    assert host_allowed("10.0.0.1", patterns)
    assert host_allowed("[::1]", patterns)
    assert host_allowed("[0:0::1]", patterns)
    assert host_allowed("anything.at.all", normalize_patterns(["*"]))
