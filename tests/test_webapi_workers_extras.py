"""What Cloudflare Workers give beyond the web standards, which Workers code tests for:
`navigator`, the (no-op) Cache API and `crypto.subtle.timingSafeEqual`."""

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
