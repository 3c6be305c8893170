"""What Cloudflare Workers give beyond the web standards, which Workers code tests for:
`navigator`, the (no-op) Cache API, `crypto.subtle.timingSafeEqual`, and URLPattern
(a WHATWG standard, but routers written for Workers are its main users)."""

from __future__ import annotations

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
