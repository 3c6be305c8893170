"""What Cloudflare Workers give beyond the web standards, which Workers code tests for:
`navigator`, the (no-op) Cache API and `crypto.subtle.timingSafeEqual`; and standards that
Workers code leans on: URLPattern (routers) and the Compression Streams (compress middleware)."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

from tests.jsrun import Run, js


async def test_navigator_answers_as_workers_do(run: Run) -> None:
    out = await js(
        run,
        """
        Vortex.return({
          userAgent: navigator.userAgent,
          threads: navigator.hardwareConcurrency,
          language: navigator.language,
          tag: Object.prototype.toString.call(navigator),
          frozen: Object.isFrozen(Object.getPrototypeOf(navigator)),
          construct: (() => { try { new Navigator(); return 'made'; } catch (e) { return e.name; } })(),
        });
        """,
    )
    assert out == {
        "userAgent": "Cloudflare-Workers",
        "threads": 1,
        "language": "en",
        "tag": "[object Navigator]",
        "frozen": True,
        "construct": "TypeError",
    }


async def test_the_cache_api_is_there_and_always_misses(run: Run) -> None:
    out = await js(
        run,
        """
        const request = new Request('https://example.com/page');
        const named = await caches.open('pages');
        await caches.default.put(request, new Response('kept?'));
        await named.put('https://example.com/other', new Response('kept?'));
        const refused = await caches.default.put(request, 'not a response').then(() => 'ok', (e) => e.name);
        Vortex.return({
          default: await caches.default.match(request),
          named: await named.match('https://example.com/other'),
          deleted: await caches.default.delete(request),
          refused,
          sameCache: named === caches.default,
          tags: [String(caches), String(named)],
        });
        """,
    )
    assert out == {
        "deleted": False,
        "refused": "TypeError",
        "sameCache": True,
        "tags": ["[object CacheStorage]", "[object Cache]"],
    }


async def test_cache_put_refuses_what_workers_refuse(run: Run) -> None:
    out = await js(
        run,
        """
        const url = 'https://example.com/page';
        const put = (request, response) =>
          caches.default.put(request, response).then(() => 'ok', (e) => [e.name, e.message]);
        const { 1: server } = new WebSocketPair();
        Vortex.return({
          post: await put(new Request(url, { method: 'POST', body: 'x' }), new Response('r')),
          head: await put(new Request(url, { method: 'HEAD' }), new Response('r')),
          partial: await put(url, new Response('r', { status: 206 })),
          varyStar: await put(url, new Response('r', { headers: { Vary: 'Accept, *' } })),
          socket: await put(url, new Response(null, { status: 101, webSocket: server })),
          get: await put(new Request(url), new Response('r', { headers: { Vary: 'Accept' } })),
          proxy: await put(new Proxy(new Request(url), {}), new Response('r')).then((r) => r[0]),
        });
        """,
    )
    assert out == {
        "post": ["TypeError", "Cannot cache response to non-GET request."],
        "head": ["TypeError", "Cannot cache response to non-GET request."],
        "partial": ["TypeError", "Cannot cache response to a range request (206 Partial Content)."],
        "varyStar": ["TypeError", "Cannot cache response with 'Vary: *' header."],
        "socket": ["TypeError", "Cannot cache WebSocket upgrade response."],
        "get": "ok",
        "proxy": "TypeError",
    }


async def test_timing_safe_equal_compares_buffers_of_one_length(run: Run) -> None:
    out = await js(
        run,
        """
        const enc = new TextEncoder();
        const eq = (a, b) => {
          try { return crypto.subtle.timingSafeEqual(a, b); } catch (e) { return e.name + ': ' + e.message; }
        };
        Vortex.return([
          eq(enc.encode('secret'), enc.encode('secret')),
          eq(enc.encode('secret'), enc.encode('secreT')),
          eq(enc.encode('secret').buffer, new Uint8Array(enc.encode('secret'))),
          eq(new Uint8Array(0), new ArrayBuffer(0)),
          eq(enc.encode('short'), enc.encode('longer')),
          eq('secret', 'secret'),
        ]);
        """,
    )
    assert out == [
        True,
        False,
        True,
        True,
        "TypeError: Input buffers must have the same byte length",
        "TypeError: a is not of type (ArrayBuffer or ArrayBufferView)",
    ]


async def test_url_pattern_matches_and_captures_groups(run: Run) -> None:
    out = await js(
        run,
        """
        const books = new URLPattern({ pathname: '/books/:id(\\\\d+)' });
        const api = new URLPattern('https://:tenant.example.com/api/*');
        const hit = books.exec('https://shop.test/books/42?x=1');
        const sub = api.exec('https://acme.example.com/api/v1/items');
        let bad;
        try { new URLPattern({ pathname: '/(' }); } catch (e) { bad = e.name; }
        Vortex.return({
          test: [books.test('https://shop.test/books/42'), books.test('https://shop.test/books/abc')],
          id: hit.pathname.groups.id,
          tenant: sub.hostname.groups.tenant,
          rest: sub.pathname.groups[0],
          pathname: books.pathname,
          miss: api.exec('https://acme.example.org/api/x'),
          bad,
        });
        """,
    )
    assert out == {
        "test": [True, False],
        "id": "42",
        "tenant": "acme",
        "rest": "v1/items",
        "pathname": "/books/:id(\\d+)",
        "miss": None,
        "bad": "TypeError",
    }


async def test_compression_streams_speak_the_formats_other_tools_do(run: Run) -> None:
    # Python's zlib on the other side: what JS compresses, it reads, and the other way round.
    text = "Vortex compresses this line. " * 200
    samples = {
        "gzip": base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode(),
        "deflate": base64.b64encode(zlib.compress(text.encode())).decode(),
        "deflate-raw": base64.b64encode(_raw_deflate(text.encode())).decode(),
    }
    out = await js(
        run,
        f"""
        const text = {text!r};
        const samples = {json.dumps(samples)};
        const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
        const through = (data, stream) => new Response(new Blob([data]).stream().pipeThrough(stream)).arrayBuffer();
        const result = {{}};
        for (const format of ['gzip', 'deflate', 'deflate-raw']) {{
          const packed = await through(new TextEncoder().encode(text), new CompressionStream(format));
          result[format] = {{
            packed: b64(packed),
            smaller: packed.byteLength < text.length / 10,
            readsPython: new TextDecoder().decode(await through(bytes(samples[format]), new DecompressionStream(format))) === text,
          }};
        }}
        const fails = async (make) => {{ try {{ await make(); return 'no error'; }} catch (e) {{ return e.name; }} }};
        const gz = bytes(samples.gzip);
        result.errors = [
          await fails(() => new CompressionStream('brotli')),
          await fails(() => new DecompressionStream()),
          await fails(() => through(gz.slice(0, gz.length >> 1), new DecompressionStream('gzip'))),
          await fails(() => through(gz.slice(0, gz.length - 4), new DecompressionStream('gzip'))),
          await fails(() => through(new Uint8Array([...gz, 1, 2, 3]), new DecompressionStream('gzip'))),
          await fails(() => through(new TextEncoder().encode('not gzip at all'), new DecompressionStream('gzip'))),
          await fails(() => {{
            const strings = new ReadableStream({{ start(c) {{ c.enqueue('a string, not bytes'); c.close(); }} }});
            return new Response(strings.pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
          }}),
        ];
        result.tag = String(new CompressionStream('gzip'));
        Vortex.return(result);
        """,
    )
    assert gzip.decompress(base64.b64decode(out["gzip"]["packed"])).decode() == text
    assert zlib.decompress(base64.b64decode(out["deflate"]["packed"])).decode() == text
    raw = zlib.decompressobj(wbits=-15)
    assert raw.decompress(base64.b64decode(out["deflate-raw"]["packed"])).decode() == text
    assert gzip.decompress(base64.b64decode(out["gzip"]["packed"]))  # a whole member
    assert base64.b64decode(out["gzip"]["packed"])[4:8] == b"\0\0\0\0"  # mtime 0, as browsers
    for format in ("gzip", "deflate", "deflate-raw"):
        assert out[format]["smaller"] and out[format]["readsPython"], (format, out[format])
    assert out["errors"] == ["TypeError"] * 7
    assert out["tag"] == "[object CompressionStream]"


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


async def test_decompressed_output_comes_in_pieces(run: Run) -> None:
    # 64 MiB of zeros from 64 KiB: handed over a MiB at a time, never as one buffer.
    bomb = base64.b64encode(gzip.compress(bytes(64 << 20), mtime=0)).decode()
    out = await js(
        run,
        f"""
        const packed = Uint8Array.from(atob('{bomb}'), (c) => c.charCodeAt(0));
        const reader = new Blob([packed]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
        let total = 0, pieces = 0, largest = 0;
        for (;;) {{
          const {{ done, value }} = await reader.read();
          if (done) break;
          total += value.length; pieces += 1; largest = Math.max(largest, value.length);
        }}
        Vortex.return({{ packed: packed.length, total, pieces, largest }});
        """,
    )
    assert out["total"] == 64 << 20
    assert out["largest"] <= 1 << 20 and out["pieces"] >= 64
    assert out["packed"] < 100_000
