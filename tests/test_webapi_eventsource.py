"""EventSource, as workerd has it: the event stream parsed as the HTML Standard says (through
``EventSource.from(readable)``, workerd's extension, and through a fetcher), and against a real
origin: its events, a status or content type that fails the connection, ``close()``, and the
reconnection with ``Last-Event-ID`` once the origin ends its response."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import TEST_SERVER_ENV
from tests.jsrun import Run, js
from tests.server import ServerProcess, start_server, stop_and_check
from tests.threaded_app import app_in_thread

# Reads `chunks` (arrays of byte values) through EventSource.from until the stream is over:
# every event as [type, data, lastEventId, origin], and the readyState at each step.
PARSE = """
async function parse(chunks, types = []) {
  const stream = new ReadableStream({
    start(c) { for (const bytes of chunks) c.enqueue(new Uint8Array(bytes)); c.close(); },
  });
  const source = EventSource.from(stream);
  const states = [source.readyState];
  const events = [];
  const seen = (e) => events.push([e.type, e.data, e.lastEventId, e.origin]);
  source.onmessage = seen;
  for (const type of types) source.addEventListener(type, seen);
  source.onopen = () => states.push(source.readyState);
  await new Promise((resolve) => {
    source.onerror = (e) => { states.push(source.readyState, e instanceof ErrorEvent); resolve(); };
  });
  return { events, states };
}
"""


def chunked(data: bytes, size: int) -> list[list[int]]:
    return [list(data[i : i + size]) for i in range(0, len(data), size)]


async def parsed(run: Run, chunks: list[list[int]], types: list[str] | None = None) -> Any:
    return await js(
        run, PARSE + f"Vortex.return(await parse({json.dumps(chunks)}, {json.dumps(types or [])}));"
    )


# EventSource.prototype's own names in workerd.
PROTOTYPE_NAMES = [
    "CLOSED", "CONNECTING", "OPEN", "close", "constructor", "onerror", "onmessage", "onopen",
    "readyState", "url", "withCredentials",
]  # fmt: skip


async def test_the_shape_workerd_gives_it(run: Run) -> None:
    out = await js(
        run,
        """
        const source = EventSource.from(new ReadableStream());
        const fails = (f) => { try { f(); return 'made'; } catch (e) { return e.name; } };
        Vortex.return({
          types: [typeof EventSource, typeof EventSource.from, EventSource.length],
          statics: [EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED],
          constants: [source.CONNECTING, source.OPEN, source.CLOSED],
          names: Object.getOwnPropertyNames(EventSource.prototype).sort(),
          target: source instanceof EventTarget,
          tag: Object.prototype.toString.call(source),
          fields: [source.url, source.withCredentials, source.readyState],
          handlers: [source.onopen, source.onmessage, source.onerror],
          frozen: Object.isFrozen(EventSource) && Object.isFrozen(EventSource.prototype),
          refused: [
            fails(() => new EventSource()),
            fails(() => new EventSource('/relative')),
            fails(() => new EventSource('not a url')),
            fails(() => new EventSource('https://example.com/', { withCredentials: true })),
            fails(() => new EventSource('https://example.com/', { fetcher: {} })),
            fails(() => EventSource.from('data: x')),
            fails(() => { const s = new ReadableStream(); s.getReader(); EventSource.from(s); }),
            fails(() => EventSource()),
          ],
          relative: (() => { try { new EventSource('/x'); } catch (e) { return [e instanceof DOMException, e.code]; } })(),
        });
        """,
    )
    assert out == {
        "types": ["function", "function", 0],
        "statics": [0, 1, 2],
        "constants": [0, 1, 2],
        "names": sorted(PROTOTYPE_NAMES),
        "target": True,
        "tag": "[object EventSource]",
        "fields": ["", False, 0],
        "handlers": [None, None, None],
        "frozen": True,
        "refused": [
            "TypeError",
            "SyntaxError",
            "SyntaxError",
            "NotSupportedError",
            *["TypeError"] * 4,
        ],
        "relative": [True, 12],
    }


async def test_fields_comments_and_dispatch(run: Run) -> None:
    stream = (
        b": a comment, then a line with only a colon\n"
        b":\n"
        b"data: one\n"
        b"data:two\n"
        b"data:  three\n"
        b"\n"
        b"event: ping\n"
        b"data: a:b\n"
        b"\n"
        b"event: ignored, no data\n"
        b"\n"
        b"id: 7\n"
        b"data: seven\n"
        b"\n"
        b"data: still 7\n"
        b"unknown: field\n"
        b"retry: 1500\n"
        b"retry: soon\n"
        b"\n"
        b"id: with\x00nul\n"
        b"data: nul id ignored\n"
        b"\n"
        b"id\n"
        b"data\n"
        b"\n"
        b"id: 9\n"
        b"\n"
        b"data: after an id alone\n"
        b"\n"
        b"data: never ended"
    )
    out = await parsed(run, [list(stream)], ["ping"])
    assert out == {
        "events": [
            ["message", "one\ntwo\n three", "", ""],
            ["ping", "a:b", "", ""],
            ["message", "seven", "7", ""],
            ["message", "still 7", "7", ""],
            ["message", "nul id ignored", "7", ""],
            ["message", "", "", ""],
            ["message", "after an id alone", "9", ""],
        ],
        "states": [0, 1, 2, True],
    }


async def test_line_ends_bom_and_chunk_boundaries(run: Run) -> None:
    stream = (
        "\ufeffdata: é\r\ndata: €\rdata: 😀\n\r\n"
        "event: crlf\r\ndata: x\r\n\r\n"
        "\ufeffdata: a second BOM is part of the field name\n\n"
        "data: last\r\r"
    ).encode()
    expected = [
        ["message", "é\n€\n😀", "", ""],
        ["crlf", "x", "", ""],
        ["message", "last", "", ""],
    ]
    # Whole, byte by byte (a CR and its LF apart, each character's bytes apart, the BOM
    # split), and in uneven pieces.
    for chunks in ([list(stream)], chunked(stream, 1), chunked(stream, 2), chunked(stream, 5)):
        out = await parsed(run, chunks, ["crlf"])
        assert out == {"events": expected, "states": [0, 1, 2, True]}, chunks


async def test_from_reads_bytes_only_and_close_cancels_its_stream(run: Run) -> None:
    out = await js(
        run,
        """
        const wait = (ms) => new Promise((r) => setTimeout(r, ms));
        let cancelled = 'no';
        let controller;
        const stream = new ReadableStream({
          start(c) { controller = c; c.enqueue(new TextEncoder().encode('data: a\\n\\ndata: b\\n\\n')); },
          cancel(reason) { cancelled = 'yes'; },
        });
        const source = EventSource.from(stream);
        const seen = [];
        source.onmessage = (e) => { seen.push(e.data); source.close(); };
        source.onerror = () => seen.push('error');
        await wait(20);
        const afterClose = [source.readyState, cancelled, stream.locked];

        const text = new ReadableStream({ start(c) { c.enqueue('data: x\\n\\n'); c.close(); } });
        const refusing = EventSource.from(text);
        const refused = await new Promise((r) => { refusing.onerror = (e) => r([e.error.name, refusing.readyState]); });

        const failing = EventSource.from(new ReadableStream({ start(c) { c.error(new RangeError('broken')); } }));
        const failed = await new Promise((r) => { failing.onerror = (e) => r([e.error.name, e.message, failing.readyState]); });

        const used = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(1)); } });
        await used.getReader().read().then(() => {});
        let disturbed;
        try { EventSource.from(used); } catch (e) { disturbed = e.name; }
        Vortex.return({ seen, afterClose, refused, failed, disturbed });
        """,
    )
    assert out == {
        "seen": ["a"],
        "afterClose": [2, "yes", True],
        "refused": ["TypeError", 2],
        "failed": ["RangeError", "broken", 2],
        "disturbed": "TypeError",
    }


async def test_a_fetcher_is_asked_with_the_event_stream_headers_and_last_event_id(
    run: Run,
) -> None:
    # workerd's `fetcher` option (a service binding there): each connection is one call, and
    # the reconnection after the stream ends carries the last id seen.
    out = await js(
        run,
        """
        const asked = [];
        const bodies = ['retry: 10\\nid: 5\\ndata: first\\n\\n', 'data: second\\n\\n'];
        const fetcher = {
          async fetch(url, init) {
            const h = new Headers(init.headers);
            asked.push([url, h.get('accept'), h.get('cache-control'), h.get('last-event-id'), performance.now()]);
            return new Response(bodies.shift(), { headers: { 'content-type': 'Text/Event-Stream; charset=utf-8' } });
          },
        };
        const source = new EventSource('https://sse.example/feed?x=1', { fetcher });
        const log = [];
        source.onerror = () => log.push(['error', source.readyState]);
        await new Promise((resolve) => {
          source.onmessage = (e) => {
            log.push([e.data, e.lastEventId, e.origin]);
            if (e.data === 'second') { source.close(); resolve(); }
          };
        });
        const gap = asked[1][4] - asked[0][4];
        Vortex.return({ asked: asked.map((a) => a.slice(0, 4)), log, gap: gap >= 900, state: source.readyState });
        """,
    )
    url = "https://sse.example/feed?x=1"
    assert out == {
        "asked": [
            [url, "text/event-stream", "no-cache", None],
            [url, "text/event-stream", "no-cache", "5"],
        ],
        "log": [
            ["first", "5", "https://sse.example"],
            ["error", 0],
            ["second", "5", "https://sse.example"],
        ],
        # `retry: 10` is held to workerd's least, a second.
        "gap": True,
        "state": 2,
    }


async def test_a_host_not_allowed_fails_the_connection(run: Run) -> None:
    out = await js(
        run,
        """
        const source = new EventSource('http://127.0.0.1:9/events');
        const first = source.readyState;
        const error = await new Promise((r) => { source.onerror = (e) => r([e.error.name, source.readyState]); });
        Vortex.return({ first, error, url: source.url });
        """,
    )
    assert out == {"first": 0, "error": ["TypeError", 2], "url": "http://127.0.0.1:9/events"}


# Against a real origin: a server whose functions may reach loopback.
SSE_ENV = {**TEST_SERVER_ENV, "VORTEX_FETCH_ALLOW_PRIVATE": "1"}


@dataclass
class Origin:
    port: int
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def url(self, path: str) -> tuple[str, str]:
        """A URL of `path` for one test, and the token its requests are kept under."""
        token = uuid.uuid4().hex
        return f"http://127.0.0.1:{self.port}{path}?t={token}", token


def _origin_app(origin: Origin) -> web.Application:
    def note(request: web.Request) -> list[dict[str, Any]]:
        requests = origin.seen.setdefault(request.query["t"], [])
        headers = {k.lower(): v for k, v in request.headers.items()}
        requests.append({"headers": headers, "at": time.monotonic()})
        return requests

    async def events(request: web.Request) -> web.StreamResponse:
        note(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for part in (
            b": hello\n\nid: 1\ndata: fir",
            b'st\n\nevent: update\ndata: {"n":2}\n',
            b"\nid: 3\r\ndata: th\xc3",
            b"\xa9\r\n\r\n",
        ):
            await response.write(part)
            await asyncio.sleep(0.02)
        await response.write_eof()
        return response

    async def reconnect(request: web.Request) -> web.Response:
        requests = note(request)
        body = "retry: 1000\nid: 1\ndata: one\n\n" if len(requests) == 1 else "id: 2\ndata: two\n\n"
        return web.Response(text=body, content_type="text/event-stream")

    async def refused(request: web.Request) -> web.Response:
        note(request)
        kind = request.match_info["kind"]
        if kind == "plain":
            return web.Response(text="data: x\n\n", content_type="text/plain")
        return web.Response(status=int(kind), text="data: x\n\n", content_type="text/event-stream")

    async def hang(request: web.Request) -> web.Response:
        note(request)
        await asyncio.sleep(4)
        return web.Response(text="data: late\n\n", content_type="text/event-stream")

    app = web.Application()
    app.router.add_get("/events", events)
    app.router.add_get("/reconnect", reconnect)
    app.router.add_get("/refused/{kind}", refused)
    app.router.add_get("/hang", hang)
    return app


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    made = Origin(0)
    with app_in_thread(_origin_app(made)) as port:
        made.port = port
        yield made


@pytest.fixture(scope="module")
def sse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("sse"), SSE_ENV)
    yield proc
    stop_and_check(proc)


Runner = Callable[[str], Awaitable[dict[str, Any]]]


@pytest.fixture
def run_sse(sse_server: ServerProcess) -> Runner:
    async def _run(code: str) -> dict[str, Any]:
        async with aiohttp.ClientSession(base_url=sse_server.url) as http:
            deploy = {"code": code, "allow_hosts": ["127.0.0.1"]}
            async with http.post("/deploy", json=deploy) as response:
                body = await response.json()
                assert response.status == 200, body
            async with http.post(f"/execute/{body['function_id']}") as response:
                result: dict[str, Any] = await response.json()
                return result

    return _run


async def test_events_streamed_by_an_origin(run_sse: Runner, origin: Origin) -> None:
    url, token = origin.url("/events")
    out = await js(
        run_sse,
        f"""
        const source = new EventSource('{url}');
        const log = [];
        source.onopen = () => log.push(['open', source.readyState]);
        source.onmessage = (e) => log.push(['message', e.data, e.lastEventId, e.origin]);
        source.addEventListener('update', (e) => log.push(['update', e.data, e.lastEventId]));
        await new Promise((resolve) => {{
          source.onerror = () => {{ log.push(['error', source.readyState]); source.close(); resolve(); }};
        }});
        Vortex.return({{ log, state: source.readyState, url: source.url }});
        """,
    )
    here = f"http://127.0.0.1:{origin.port}"
    assert out == {
        "log": [
            ["open", 1],
            ["message", "first", "1", here],
            ["update", '{"n":2}', "1"],
            ["message", "thé", "3", here],
            # The origin ended the stream: reconnecting.
            ["error", 0],
        ],
        "state": 2,
        "url": url,
    }
    [request] = origin.seen[token]
    assert request["headers"]["accept"] == "text/event-stream"
    assert request["headers"]["cache-control"] == "no-cache"
    assert "last-event-id" not in request["headers"]


async def test_reconnects_after_retry_with_last_event_id(run_sse: Runner, origin: Origin) -> None:
    url, token = origin.url("/reconnect")
    out = await js(
        run_sse,
        f"""
        const source = new EventSource('{url}');
        const log = [];
        source.onerror = () => log.push(['error', source.readyState]);
        await new Promise((resolve) => {{
          source.onmessage = (e) => {{
            log.push([e.data, e.lastEventId]);
            if (e.data === 'two') {{ source.close(); resolve(); }}
          }};
        }});
        Vortex.return(log);
        """,
    )
    # The script waited through the reconnection time: a reconnection pending keeps it running.
    assert out == [["one", "1"], ["error", 0], ["two", "2"]]
    first, second = origin.seen[token]
    assert "last-event-id" not in first["headers"]
    assert second["headers"]["last-event-id"] == "1"
    # `retry: 1000`, not the default of two seconds.
    assert 0.9 <= second["at"] - first["at"] < 1.9


@pytest.mark.parametrize("kind", ["503", "204", "plain"])
async def test_a_status_or_type_not_an_event_stream_fails_for_good(
    run_sse: Runner, origin: Origin, kind: str
) -> None:
    url, token = origin.url(f"/refused/{kind}")
    out = await js(
        run_sse,
        f"""
        const source = new EventSource('{url}');
        let messages = 0;
        source.onmessage = () => {{ messages += 1; }};
        const error = await new Promise((r) => {{
          source.onerror = (e) => r([e.error.name, source.readyState]);
        }});
        Vortex.return({{ error, messages }});
        """,
    )
    # CLOSED at its error event, where a reconnection would be CONNECTING.
    assert out == {"error": ["NetworkError", 2], "messages": 0}
    assert len(origin.seen[token]) == 1


async def test_close_aborts_the_fetch_and_ends_what_the_source_kept_running(
    run_sse: Runner, origin: Origin
) -> None:
    # The origin answers in 4 s; closed at 200 ms, nothing is left pending and the script
    # (which never returns) ends then.
    url, token = origin.url("/hang")
    started = time.monotonic()
    body = await run_sse(
        f"""
        const source = new EventSource('{url}');
        source.onerror = () => console.log('error');
        source.onmessage = () => console.log('message');
        setTimeout(() => {{ source.close(); console.log('closed', source.readyState); }}, 200);
        """
    )
    assert "error" not in body, body
    assert [line["message"] for line in body["logs"]] == ["closed 2"]
    assert time.monotonic() - started < 3
    assert len(origin.seen[token]) == 1


async def test_close_in_a_listener_stops_the_rest_of_the_stream(
    run_sse: Runner, origin: Origin
) -> None:
    url, token = origin.url("/events")
    out = await js(
        run_sse,
        f"""
        const source = new EventSource('{url}');
        const log = [];
        source.addEventListener('update', (e) => log.push(e.data));
        source.onerror = () => log.push('error');
        await new Promise((resolve) => {{
          source.onmessage = (e) => {{ log.push(e.data); source.close(); resolve(); }};
        }});
        // The rest of the chunk and the stream's end, had they been dispatched, were before this.
        await new Promise((r) => setTimeout(r, 20));
        Vortex.return({{ log, state: source.readyState }});
        """,
    )
    assert out == {"log": ["first"], "state": 2}
    assert len(origin.seen[token]) == 1


async def test_a_module_function_reads_an_origin_across_a_reconnection(
    sse_server: ServerProcess, origin: Origin
) -> None:
    url, token = origin.url("/reconnect")
    code = f"""
export default {{
  async fetch() {{
    const source = new EventSource('{url}');
    const seen = [];
    await new Promise((resolve) => {{
      source.onmessage = (e) => {{
        seen.push(e.data + '@' + e.lastEventId);
        if (seen.length === 2) {{ source.close(); resolve(); }}
      }};
    }});
    return Response.json(seen);
  }},
}};
"""
    async with aiohttp.ClientSession(base_url=sse_server.url) as http:
        payload = {"code": code, "filename": "index.mjs", "allow_hosts": ["127.0.0.1"]}
        async with http.post("/deploy", json=payload) as response:
            body = await response.json()
            assert response.status == 200, body
        async with http.get(sse_server.fn_url(body["function_id"])) as response:
            assert response.status == 200, await response.text()
            assert await response.json() == ["one@1", "two@2"]
    assert [r["headers"].get("last-event-id") for r in origin.seen[token]] == [None, "1"]
