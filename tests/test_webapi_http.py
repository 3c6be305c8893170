"""Headers, Request and Response against the Fetch Standard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]


async def test_header_names_are_case_insensitive_and_values_combine(run: Run) -> None:
    out = await js(
        run,
        """
        const h = new Headers({ 'Content-Type': 'text/plain' });
        h.append('Accept', 'text/html');
        h.append('ACCEPT', 'application/json');
        h.set('X-Padded', '  \\t spaced value \\t ');
        h.append('Set-Cookie', 'a=1');
        h.append('set-cookie', 'b=2');
        const before = h.has('CONTENT-TYPE');
        h.delete('content-TYPE');
        Vortex.return({
          before, after: h.has('content-type'),
          accept: h.get('accept'), padded: h.get('x-padded'), missing: h.get('nope'),
          cookie: h.get('set-cookie'), cookies: h.getSetCookie(),
          entries: [...h],
        });
        """,
    )
    assert out == {
        "before": True,
        "after": False,
        "accept": "text/html, application/json",
        "padded": "spaced value",
        "missing": None,
        "cookie": "a=1, b=2",
        "cookies": ["a=1", "b=2"],
        "entries": [
            ["accept", "text/html, application/json"],
            ["set-cookie", "a=1"],
            ["set-cookie", "b=2"],
            ["x-padded", "spaced value"],
        ],
    }


async def test_headers_init_forms_and_invalid_input(run: Run) -> None:
    out = await js(
        run,
        """
        const fromPairs = new Headers([['B', '1'], ['a', '2'], ['b', '3']]);
        const copy = new Headers(fromPairs);
        copy.set('a', 'changed');
        const errors = [];
        for (const bad of [() => new Headers({ 'bad name': 'x' }), () => new Headers({ ok: 'a\\nb' }),
                           () => new Headers([['only-name']]), () => new Headers({ 'x': '€' }),
                           () => new Headers(null), () => new Headers(1),
                           () => new Response('', { headers: null })]) {
          try { bad(); errors.push('accepted'); } catch (e) { errors.push(e.name); }
        }
        const seen = [];
        fromPairs.forEach((value, name) => seen.push(name + '=' + value));
        Vortex.return({ sorted: [...fromPairs.keys()], original: fromPairs.get('a'), errors, seen });
        """,
    )
    assert out == {
        "sorted": ["a", "b"],
        "original": "2",
        # A value may hold any character (sent as UTF-8), as in workerd: '€' is accepted.
        "errors": ["TypeError"] * 3 + ["accepted"] + ["TypeError"] * 3,
        "seen": ["a=2", "b=1, 3"],
    }


async def test_response_bodies_read_once_in_every_form(run: Run) -> None:
    out = await js(
        run,
        """
        const r = new Response('héllo');
        const text = await r.text();
        let second;
        try { await r.text(); second = 'read twice'; } catch (e) { second = e.name; }
        const bytes = new Uint8Array(await new Response(new Uint8Array([104, 105])).arrayBuffer());
        const fromBuffer = await new Response(new Uint8Array([1, 2, 3]).buffer).bytes();
        const form = new Response(new URLSearchParams({ a: '1 2' }));
        const json = await new Response('{"a":[1,2]}').json();
        let badJson;
        try { await new Response('{').json(); } catch (e) { badJson = e.name; }
        Vortex.return({
          text, used: r.bodyUsed, second, bytes: [...bytes], fromBuffer: [...fromBuffer],
          formType: form.headers.get('content-type'), formBody: await form.text(),
          textType: new Response('x').headers.get('content-type'),
          json, badJson, nullBody: new Response(null).body, emptyText: await new Response().text(),
          objectBody: await new Response({}).text(),
        });
        """,
    )
    assert out == {
        "text": "héllo",
        "used": True,
        "second": "TypeError",
        "bytes": [104, 105],
        "fromBuffer": [1, 2, 3],
        "formType": "application/x-www-form-urlencoded;charset=UTF-8",
        "formBody": "a=1+2",
        "textType": "text/plain;charset=UTF-8",
        "json": {"a": [1, 2]},
        "badJson": "SyntaxError",
        "nullBody": None,
        "emptyText": "",
        "objectBody": "[object Object]",
    }


async def test_response_status_rules_and_static_constructors(run: Run) -> None:
    out = await js(
        run,
        """
        const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.name; } };
        const json = Response.json({ a: 1 }, { status: 201, headers: { 'X-A': '1' } });
        const redirect = Response.redirect('https://example.com/next', 301);
        const error = Response.error();
        Vortex.return({
          defaults: [new Response().status, new Response().ok, new Response().statusText, new Response().type],
          json: [json.status, json.headers.get('content-type'), json.headers.get('x-a'), await json.json()],
          jsonKeepsType: Response.json(1, { headers: { 'content-type': 'application/vnd+json' } }).headers.get('content-type'),
          redirect: [redirect.status, redirect.headers.get('location'), redirect.body],
          redirectImmutable: attempt(() => redirect.headers.set('location', 'x')),
          error: [error.type, error.status, error.ok],
          statuses: [attempt(() => new Response(null, { status: 199 })), attempt(() => new Response(null, { status: 600 })),
                     attempt(() => new Response('x', { status: 204 })), attempt(() => new Response(null, { status: 204 })),
                     attempt(() => Response.redirect('https://x/', 200)), attempt(() => Response.redirect('/relative')),
                     attempt(() => new Response(null, { statusText: 'bad\\nline' }))],
          notOk: new Response(null, { status: 404, statusText: 'Not Found' }).ok,
        });
        """,
    )
    assert out == {
        "defaults": [200, True, "", "default"],
        "json": [201, "application/json", "1", {"a": 1}],
        "jsonKeepsType": "application/vnd+json",
        "redirect": [301, "https://example.com/next", None],
        "redirectImmutable": "TypeError",
        "error": ["error", 0, False],
        "statuses": [
            "RangeError",
            "RangeError",
            "TypeError",
            "ok",
            "RangeError",
            "TypeError",
            "TypeError",
        ],
        "notOk": False,
    }


async def test_clone_tees_bodies(run: Run) -> None:
    out = await js(
        run,
        """
        const r = new Response('same');
        const c = r.clone();
        const stream = new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode('streamed')); ctl.close(); } });
        const s = new Response(stream, { status: 202 });
        const sc = s.clone();
        const results = [await r.text(), await c.text(), await s.text(), await sc.text(), sc.status];
        let again;
        try { r.clone(); again = 'cloned'; } catch (e) { again = e.name; }
        Vortex.return([...results, again]);
        """,
    )
    assert out == ["same", "same", "streamed", "streamed", 202, "TypeError"]


async def test_requests(run: Run) -> None:
    out = await js(
        run,
        """
        const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.name; } };
        const post = new Request('https://example.com/a?b=1#c', { method: 'post', body: 'data', headers: { 'X-A': '1' } });
        const copy = new Request(post, { headers: { 'X-B': '2' } });
        const cloned = copy.clone();
        Vortex.return({
          post: [post.method, post.url, post.headers.get('content-type'), post.redirect, post.signal.aborted],
          moved: [post.bodyUsed, await copy.text(), await cloned.text(), copy.headers.get('x-a'), copy.headers.get('x-b')],
          methods: [new Request('http://x/', { method: 'delete' }).method, new Request('http://x/', { method: 'patch' }).method],
          errors: [attempt(() => new Request('/relative')), attempt(() => new Request('http://x/', { method: 'GET', body: 'x' })),
                   attempt(() => new Request('http://x/', { method: 'CONNECT' })), attempt(() => new Request('http://x/', { method: 'bad method' })),
                   attempt(() => new Request('http://u:p@x/')), attempt(() => new Request('http://x/', { redirect: 'nope' }))],
          fromUrl: new Request(new URL('http://example.com/x')).url,
        });
        """,
    )
    assert out == {
        "post": [
            "POST",
            "https://example.com/a?b=1#c",
            "text/plain;charset=UTF-8",
            "follow",
            False,
        ],
        "moved": [True, "data", "data", None, "2"],
        "methods": ["DELETE", "patch"],
        "errors": ["TypeError"] * 6,
        "fromUrl": "http://example.com/x",
    }


RESPONSES = """export default { async fetch(request) {
  const path = new URL(request.url).pathname;
  const res = new Response('hello world', { headers: { 'x-a': '1' } });
  if (path === '/rewrapped') return new Response(res.body, res);
  if (path === '/stream') {
    const stream = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 105])); c.close(); } });
    return new Response(stream);
  }
  if (path === '/read') {
    const copy = new Response(res.body, res);
    return Response.json([await copy.text(), copy.bodyUsed, res.body.locked]);
  }
  return new Response('?', { status: 404 });
} };
"""


async def test_a_body_passed_on_untouched_keeps_its_length(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    # `new Response(res.body, res)`, as itty's corsify and Hono's middlewares do: workerd
    # sends the length of the bytes behind the stream; a stream of unknown length is chunked.
    function_id = await deploy(RESPONSES, filename="index.mjs")
    async with http.get(server.fn_url(function_id, "/rewrapped")) as response:
        assert await response.text() == "hello world"
        assert response.headers["Content-Length"] == "11"
        assert "Transfer-Encoding" not in response.headers
        assert response.headers["x-a"] == "1"
        assert response.headers["Content-Type"] == "text/plain;charset=UTF-8"
    async with http.get(server.fn_url(function_id, "/stream")) as response:
        assert await response.text() == "hi"
        assert response.headers["Transfer-Encoding"] == "chunked"
        # no Content-Type made up for a body without one (workerd sends none either)
        assert "Content-Type" not in response.headers
    async with http.get(server.fn_url(function_id, "/read")) as response:
        assert await response.json() == ["hello world", True, True]


async def test_headers_iterate_what_the_list_holds_at_each_step(run: Run) -> None:
    """The sorted pairs are kept between steps (a loop over many headers was quadratic), so
    each change must drop them: an iteration sees what was set, appended or deleted."""
    out = await js(
        run,
        """
        const h = new Headers([['b', '1'], ['d', '2']]);
        const seen = [];
        for (const [name, value] of h) {
          seen.push(name + '=' + value);
          if (name === 'b') { h.append('c', '3'); h.append('B', '4'); }
          if (name === 'c') { h.delete('d'); h.set('e', '5'); }
        }
        const cookies = new Headers([['set-cookie', 'x=1'], ['a', '0'], ['set-cookie', 'y=2']]);
        Vortex.return({ seen, cookies: [...cookies], copy: [...new Headers(h)] });
        """,
    )
    assert out == {
        "seen": ["b=1", "c=3", "e=5"],
        "cookies": [["a", "0"], ["set-cookie", "x=1"], ["set-cookie", "y=2"]],
        "copy": [["b", "1, 4"], ["c", "3"], ["e", "5"]],
    }
