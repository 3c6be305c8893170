"""Fuzzing a real server with hypothesis: random programs (from a grammar of statements that
includes hostile fragments) and random requests (methods, paths, headers, bodies).

For every one: no 5xx but the documented 503s, an answer within the limits plus a margin, no
Python traceback in any body; at the end, nothing unhandled in the server's log. Examples are
derandomized and no example database is kept, so a run in CI is the same as a run here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.hardening.conftest import TRACEBACK_MARKERS, unhandled_entries
from tests.hardening.test_hostile import RUN_ERROR_CODES
from tests.server import ServerProcess

FUZZ_ENV = {
    "VORTEX_CPU_LIMIT_MS": "200",
    "VORTEX_WALL_LIMIT_MS": "1000",
    "VORTEX_HOST_MEMORY_MB": "400",
    "VORTEX_MAX_LOG_LINES": "200",
    "VORTEX_MAX_TIMERS": "50",
    "VORTEX_MAX_OUTPUT_BYTES": "16384",
    "VORTEX_MAX_CODE_BYTES": "65536",
    "VORTEX_MAX_BODY_BYTES": "131072",
}
WALL_S = 1.0
# A run may wait for a host while the pool replaces one a runaway took down (about a second
# each on this machine), then run for up to its wall limit; the supervisor's backstop is 2 s.
RUN_ANSWER_S = WALL_S + 6.0
REQUEST_ANSWER_S = 5.0
DOCUMENTED_503 = {"storage_unavailable", "pool_unavailable"}

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


# -- a small HTTP client on raw sockets: any path, any header, any body ----------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> object:
        return json.loads(self.body)


async def exchange(port: int, request: bytes, within: float) -> Answer:
    started = time.monotonic()
    async with asyncio.timeout(within):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    elapsed = time.monotonic() - started
    assert raw, "the server closed the connection without an answer"
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return Answer(status, headers, body, elapsed)


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


JSON_TYPE = {"Content-Type": "application/json"}


def http_request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body


def check_answer(answer: Answer, within: float) -> None:
    text = answer.body.decode("utf-8", "replace")
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"Python internals in a response: {text[:2000]}"
    assert answer.elapsed < within, f"answered after {answer.elapsed:.1f} s"
    if answer.status >= 500:
        assert answer.status == 503, (answer.status, text[:500])
        body = answer.json()
        assert isinstance(body, dict)
        assert body["error"]["code"] in DOCUMENTED_503, body
    if answer.headers.get("content-type", "").startswith("application/json") and answer.body:
        body = answer.json()
        if answer.status >= 400 and isinstance(body, dict) and "error" in body:
            assert isinstance(body["error"].get("code"), str), body
            assert isinstance(body["error"].get("message"), str), body


# -- a grammar of programs ----------------------------------------------------------------------------
# Lone surrogates and Symbol rejections are left out: they have their own xfail tests
# (test_hostile.py) and would only find those bugs again.
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1FFFF), max_size=12
)


def js_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


LEAVES = st.one_of(
    st.integers(-(2**60), 2**60).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: "NaN" if f != f else ("Infinity" if f == float("inf") else ("-Infinity" if f == float("-inf") else repr(f)))
    ),
    SAFE_TEXT.map(js_string),
    st.sampled_from(
        [
            "true", "false", "null", "undefined", "10n", "-0", "[]", "{}", "globalThis",
            "console", "Vortex", "Math", "JSON", "Date.now()", "Math.random()",
            "new Date(0)", "new Map([[1, 2]])", "new Set([1])", "new Uint8Array(3)",
            "new Error('e')", "new TypeError('t')", "/re+/g", "(() => 1)", "(async () => 2)",
            "Symbol('s')", "new Proxy({}, {})", "(() => { const a = {}; a.a = a; return a })()",
            "Object.create(null)", "new ArrayBuffer(8)", "new URL('https://example.com/a?b=c')",
            "new Headers({ a: 'b' })", "new Response('body')", "new TextEncoder().encode('x')",
            "crypto.randomUUID()", "structuredClone({ a: [1] })", "performance.now()",
            "new Array(5).fill(0)", "'x'.repeat(1000)", "Object.freeze({ f: 1 })",
        ]
    ),
)  # fmt: skip


def compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(SAFE_TEXT, children), max_size=3).map(
            lambda kvs: "({" + ", ".join(f"{js_string(k)}: {v}" for k, v in kvs) + "})"
        ),
        st.tuples(
            children, st.sampled_from(["+", "-", "*", "/", "%", "===", "??", "&&", "||"]), children
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda x: f"String({x})"),
        children.map(lambda x: f"JSON.stringify({x})"),
        children.map(lambda x: f"typeof {x}"),
        children.map(lambda x: f"[{x}].length"),
    )


EXPRESSIONS = st.recursive(LEAVES, compound, max_leaves=8)
THROWABLE = EXPRESSIONS.filter(lambda x: "Symbol(" not in x)

HOSTILE = st.sampled_from(
    [
        "for (;;) {}",
        "while (true) await null",
        "await new Promise(() => {})",
        "function f() { return f() } f()",
        "const keep = []; for (let i = 0; i < 5; i++) keep.push(new Array(1e5).fill(i))",
        "for (let i = 0; i < 1000; i++) console.log(i)",
        "for (let i = 0; i < 100; i++) setTimeout(() => {}, 10)",
        "setInterval(() => console.log('tick'), 1)",
        "Vortex.return('x'.repeat(100000))",
        "Vortex.return(10n)",
        "Promise.reject(new Error('unhandled'))",
        "try { for (;;) { try { throw 1 } finally { break } } } catch (e) {}",
        "/^(a+)+$/.test('a'.repeat(30) + 'b')",
        "JSON.parse('['.repeat(10000))",
        "queueMicrotask(() => { throw new Error('micro') })",
        "await fetch('http://127.0.0.1:1/')",
    ]
)


def statements(depth: int) -> st.SearchStrategy[str]:
    simple = st.one_of(
        st.tuples(
            st.sampled_from(["log", "info", "warn", "error", "debug"]), EXPRESSIONS, EXPRESSIONS
        ).map(lambda t: f"console.{t[0]}({t[1]}, {t[2]});"),
        EXPRESSIONS.map(lambda x: f"Vortex.return({x});"),
        THROWABLE.map(lambda x: f"throw {x};"),
        st.integers(0, 30).map(lambda n: f"await new Promise((r) => setTimeout(r, {n}));"),
        EXPRESSIONS.map(lambda x: f"let v{zlib.crc32(x.encode()) % 1000} = {x};"),
        EXPRESSIONS.map(lambda x: f"{x};"),
        HOSTILE,
    )
    if depth == 0:
        return simple
    inner = statements(depth - 1)
    block = st.lists(inner, min_size=1, max_size=3).map(" ".join)
    return st.one_of(
        simple,
        st.tuples(block, st.integers(0, 20)).map(
            lambda t: f"setTimeout(() => {{ {t[0]} }}, {t[1]});"
        ),
        block.map(lambda b: f"try {{ {b} }} catch (e) {{ console.log(e); }}"),
        st.tuples(EXPRESSIONS, block, block).map(
            lambda t: f"if ({t[0]}) {{ {t[1]} }} else {{ {t[2]} }}"
        ),
        st.tuples(st.integers(0, 5), block).map(
            lambda t: f"for (let i = 0; i < {t[0]}; i++) {{ {t[1]} }}"
        ),
        block.map(lambda b: f"await (async () => {{ {b} }})();"),
    )


PROGRAMS = st.one_of(
    st.lists(statements(2), min_size=1, max_size=6).map("\n".join),
    # a few ordinary statements, then something hostile
    st.tuples(st.lists(statements(1), max_size=3), HOSTILE).map(lambda t: "\n".join([*t[0], t[1]])),
    # and now and then plain noise, which must come back as a syntax error
    st.text(max_size=200).filter(lambda t: t.strip()),
)


@pytest.fixture(scope="module")
def fuzzed(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(FUZZ_ENV, workers=2)


class LogWatch:
    """The part of the server's log written since the last look: an example that makes the
    server log an unhandled exception fails itself (and hypothesis shrinks it)."""

    def __init__(self, server: ServerProcess) -> None:
        self.path = server.log_path
        self.offset = self.path.stat().st_size

    def check(self) -> None:
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            new = log.read()
        self.offset += len(new)
        unhandled = unhandled_entries(new.decode(errors="replace"))
        assert not unhandled, "\n".join(unhandled)[-4000:]


@pytest.fixture(scope="module")
def log_watch(fuzzed: ServerProcess) -> LogWatch:
    return LogWatch(fuzzed)


async def deploy_and_run(port: int, code: str) -> None:
    body = json.dumps({"code": code}).encode()
    deployed = await exchange(
        port, http_request("POST", "/deploy", body, JSON_TYPE), REQUEST_ANSWER_S
    )
    check_answer(deployed, REQUEST_ANSWER_S)
    event(f"deploy answered {deployed.status}")
    if deployed.status != 200:
        assert deployed.status in (400, 413), deployed
        error = deployed.json()
        assert isinstance(error, dict)
        assert error["error"]["code"] in {"syntax_error", "invalid_request", "payload_too_large"}
        return
    document = deployed.json()
    assert isinstance(document, dict)
    function_id = document["function_id"]
    ran = await exchange(port, http_request("POST", f"/execute/{function_id}"), RUN_ANSWER_S)
    check_answer(ran, RUN_ANSWER_S)
    assert ran.status == 200, ran
    result = ran.json()
    assert isinstance(result, dict)
    assert {"output", "logs", "execution_time_ms", "run_id"} <= set(result)
    event(f"run ended in {result.get('error', {}).get('code', 'success')}")
    if "error" in result:
        assert result["error"]["code"] in RUN_ERROR_CODES, result["error"]
        assert ran.headers.get("x-vortex-error") == result["error"]["code"]


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=120)
@given(code=PROGRAMS)
def test_random_programs(fuzzed: ServerProcess, log_watch: LogWatch, code: str) -> None:
    log_watch.offset = log_watch.path.stat().st_size
    asyncio.run(deploy_and_run(fuzzed.port, code))
    log_watch.check()


# -- random requests ------------------------------------------------------------------------------------
PATH_PREFIXES = st.sampled_from(
    [
        "/", "/deploy", "/execute/", "/functions", "/functions/", "/ws/", "/health", "/fn/",
        "/static/", "/openapi.json", "/metrics", "/execute/00000000-0000-4000-8000-000000000000",
        "/functions/00000000-0000-4000-8000-000000000000", "//", "/../../etc/passwd",
        "/static/../../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/deploy", "/deploy", "/execute/{fid}", "/execute/{fid}", "/functions/{fid}",
        "/ws/{fid}", "/fn/{fid}/",
    ]
)  # fmt: skip
PATH_TAILS = st.one_of(
    st.just(""),
    st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="#?"),
        max_size=40,
    ),
    st.uuids().map(str),
    st.sampled_from(["%00", "%ff", "%2F", "..", "a/b/c", "%", "%zz", "é", "😀", "?q=1", "?a=%00"]),
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(["code", "filename", "env", "secrets", "module", "files", "entry"]),
        JSON_VALUES,
        max_size=4,
    ).map(lambda d: json.dumps(d).encode()),
    st.builds(
        lambda code, filename: json.dumps({"code": code, "filename": filename}).encode(),
        st.sampled_from(["Vortex.return(1)", "", " ", "throw 1", "}"]),
        st.text(max_size=30),
    ),
    st.just(b'{"code": "' + b"x" * 200_000 + b'"}'),
)
HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Content-Type", "X-Vortex-Run-Id", "Authorization", "Accept", "Origin", "Upgrade",
            "Connection-Extra", "X-Forwarded-For", "Cookie", "Range", "If-None-Match",
        ]
    ),
    st.one_of(
        st.sampled_from(["application/json", "text/plain", "multipart/form-data; boundary=x", "*/*", "Bearer x", "websocket", "bytes=0-1"]),
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
    ),
    max_size=4,
)  # fmt: skip


FUZZED_FUNCTIONS: dict[int, str] = {}


def fuzzed_function(server: ServerProcess) -> str:
    """The id of a function deployed once on ``server``, for paths that name one."""
    if server.port not in FUZZED_FUNCTIONS:

        async def deploy() -> str:
            body = json.dumps({"code": "console.log('hi'); Vortex.return({ ok: 1 })"}).encode()
            answer = await exchange(
                server.port, http_request("POST", "/deploy", body, JSON_TYPE), 10
            )
            return str(json.loads(answer.body)["function_id"])

        FUZZED_FUNCTIONS[server.port] = asyncio.run(deploy())
    return FUZZED_FUNCTIONS[server.port]


# Where /fn/ sends a client: a function's own origin on the functions listener.
LISTENER_LOCATION = re.compile(r"http://[a-z0-9.-]+\.localhost:[0-9]+/.*")


async def one_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    host: str = "127.0.0.1",
) -> None:
    request = http_request(method, path, body, headers, host)
    answer = await exchange(port, request, REQUEST_ANSWER_S)
    event(f"answered {answer.status}")
    check_answer(answer, REQUEST_ANSWER_S)
    if answer.status == 308:
        assert LISTENER_LOCATION.fullmatch(answer.headers["location"]), answer


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=400)
@given(
    method=st.sampled_from(
        ["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"]
    ),
    prefix=PATH_PREFIXES,
    tail=PATH_TAILS,
    headers=HEADERS,
    body=BODIES,
)
def test_random_requests(
    fuzzed: ServerProcess,
    log_watch: LogWatch,
    method: str,
    prefix: str,
    tail: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    log_watch.offset = log_watch.path.stat().st_size
    path = prefix.replace("{fid}", fuzzed_function(fuzzed)) + tail
    asyncio.run(one_request(fuzzed.port, method, path, headers, body))
    log_watch.check()


LISTENER_HOSTS = st.sampled_from(
    [
        "{fid}.localhost", "{fid}.localhost:{port}", "{FID}.LOCALHOST:{port}", "{fid}.localhost.",
        "nobody.localhost", "127.0.0.1", "localhost", ".localhost", "{fid}.other.localhost", "",
    ]
)  # fmt: skip


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=300)
@given(
    method=st.sampled_from(
        ["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"]
    ),
    host=LISTENER_HOSTS,
    tail=PATH_TAILS,
    headers=HEADERS,
    body=BODIES,
)
def test_random_requests_on_the_functions_listener(
    fuzzed: ServerProcess,
    log_watch: LogWatch,
    method: str,
    host: str,
    tail: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    # The function's own face, now on its own port, served by the hosts: the same random
    # requests /fn/{id}/ used to get. Its function never fails, so no answer is a 5xx.
    log_watch.offset = log_watch.path.stat().st_size
    function_id = fuzzed_function(fuzzed)
    host = host.format(fid=function_id, FID=function_id.upper(), port=fuzzed.functions_port)
    asyncio.run(one_request(fuzzed.functions_port, method, "/" + tail, headers, body, host))
    log_watch.check()


def early_answer(port: int, host: str, path: str = "/") -> Answer:
    """A POST of 200 kB, whose answer comes before the body has been read."""
    request = http_request("POST", path, b"x" * 200_000, {}, host)
    return asyncio.run(exchange(port, request, REQUEST_ANSWER_S))


def test_a_refusal_reaches_a_client_still_sending(fuzzed: ServerProcess) -> None:
    # An unknown hostname, no Host, or a head that is not HTTP is answered by the supervisor
    # before the body is read; closed at once with bytes unread, the socket would be reset and
    # the client lose the answer: the supervisor shuts down writing and drains first.
    function_id = fuzzed_function(fuzzed)
    for path, host in [("/", "nobody.localhost"), ("/", ""), ("/é", f"{function_id}.localhost")]:
        answer = early_answer(fuzzed.functions_port, host, path)
        assert answer.status in (400, 404), answer


def test_a_413_reaches_a_client_still_sending(fuzzed: ServerProcess) -> None:
    # FUZZ_ENV allows 128 KiB: the host refuses the 200 kB up front, before the body arrives,
    # and lingers (EOF, drain) so that the 413 is read, not reset away.
    answer = early_answer(fuzzed.functions_port, f"{fuzzed_function(fuzzed)}.localhost")
    assert answer.status == 413, answer


def test_the_fuzzed_server_is_healthy_at_the_end(fuzzed: ServerProcess) -> None:
    async def check() -> None:
        deadline = time.monotonic() + 20
        while True:
            answer = await exchange(fuzzed.port, http_request("GET", "/health"), REQUEST_ANSWER_S)
            health = answer.json()
            assert isinstance(health, dict)
            if health["status"] == "healthy":
                break
            assert time.monotonic() < deadline, health
            await asyncio.sleep(0.2)
        deployed = await exchange(
            fuzzed.port,
            http_request(
                "POST", "/deploy", json.dumps({"code": "Vortex.return(42)"}).encode(), JSON_TYPE
            ),
            REQUEST_ANSWER_S,
        )
        function_id = json.loads(deployed.body)["function_id"]
        ran = await exchange(
            fuzzed.port, http_request("POST", f"/execute/{function_id}"), RUN_ANSWER_S
        )
        assert json.loads(ran.body)["output"] == 42

    asyncio.run(check())


def test_a_static_path_with_a_nul_byte_is_not_found(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(workers=1)
    answer = asyncio.run(
        exchange(server.port, http_request("GET", "/static/a%00b.js"), REQUEST_ANSWER_S)
    )
    assert answer.status == 404, answer
