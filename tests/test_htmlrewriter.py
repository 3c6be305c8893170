"""HTMLRewriter, as Workers provide it, over lol-html in WebAssembly (js/src/htmlrewriter.js):
element, text, comment and document handlers, selectors, async handlers, streaming, bounds,
and an app on the functions listener."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess

REWRITE = """
async function rewrite(html, build) {
  const out = build(new HTMLRewriter()).transform(new Response(html, { headers: { 'content-type': 'text/html' } }));
  return await out.text();
}
"""


async def test_attributes_are_rewritten(run: Run) -> None:
    out = await js(
        run,
        REWRITE
        + """
        const html = '<a href="http://a.example/x">a</a><a href="https://b.example/">b</a>'
          + '<a href="http://c.example/" class=ext>c</a><img src=x.png alt=y>';
        const seen = [];
        Vortex.return({
          html: await rewrite(html, (r) => r
            .on('a[href^="http:"]', { element(e) { e.setAttribute('href', e.getAttribute('href').replace('http:', 'https:')); } })
            .on('a.ext', { element(e) { e.removeAttribute('class').setAttribute('rel', 'noopener'); } })
            .on('img', { element(e) { seen.push([e.tagName, e.hasAttribute('alt'), e.hasAttribute('title'), e.getAttribute('title'), [...e.attributes], e.namespaceURI]); } })),
          seen,
        });
        """,
    )
    assert out["html"] == (
        '<a href="https://a.example/x">a</a><a href="https://b.example/">b</a>'
        '<a href="https://c.example/" rel="noopener">c</a><img src=x.png alt=y>'
    )
    assert out["seen"] == [
        ["img", True, False, None, [["src", "x.png"], ["alt", "y"]], "http://www.w3.org/1999/xhtml"]
    ]


async def test_content_is_injected_replaced_and_removed(run: Run) -> None:
    out = await js(
        run,
        REWRITE
        + """
        const html = '<html><head><title>t</title></head><body><div id=ad>buy <b>now</b></div>'
          + '<p class=old>old</p><span class=unwrap>kept <i>inner</i></span><h1>Title</h1><em>x</em></body></html>';
        Vortex.return(await rewrite(html, (r) => r
          .on('body', { element(e) { e.append('<script src="/a.js"></script>', { html: true }); } })
          .on('#ad', { element(e) { e.remove(); } })
          .on('p.old', { element(e) { e.setInnerContent('<new> & text'); } })
          .on('span.unwrap', { element(e) { e.removeAndKeepContent(); } })
          .on('h1', { element(e) { e.tagName = 'h2'; e.before('<hr>', { html: true }).after('!').prepend('[').append(']'); } })
          .on('em', { element(e) { e.replace('<strong>y</strong>', { html: true }); } })
          .onDocument({ end(end) { end.append('<!-- end -->', { html: true }); } })));
        """,
    )
    assert out == (
        "<html><head><title>t</title></head><body>"
        "<p class=old>&lt;new&gt; &amp; text</p>kept <i>inner</i>"
        "<hr><h2>[Title]</h2>!<strong>y</strong>"
        '<script src="/a.js"></script></body></html><!-- end -->'
    )


async def test_text_chunks_comments_and_the_doctype(run: Run) -> None:
    out = await js(
        run,
        """
        const chunks = [], docText = [], comments = [], doctypes = [];
        const body = new ReadableStream({
          start(c) {
            const enc = new TextEncoder();
            for (const part of ['<!DOCTYPE html><p>Hel', 'lo, wor', 'ld<!--in--></p><!-- secret --><!-- keep -->']) c.enqueue(enc.encode(part));
            c.close();
          },
        });
        const rewritten = new HTMLRewriter()
          .on('p', { text(t) { chunks.push([t.text, t.lastInTextNode]); if (t.text === 'Hel') t.replace('Jel'); } })
          .on('p', { comments(c) { comments.push('in p: ' + c.text); } })
          .onDocument({
            comments(c) { comments.push(c.text); if (c.text.includes('secret')) c.remove(); else c.text = ' kept '; },
            doctype(d) { doctypes.push([d.name, d.publicId, d.systemId]); },
            text(t) { docText.push(t.text); },
          })
          .transform(new Response(body));
        Vortex.return({ html: await rewritten.text(), chunks, comments, doctypes, docText });
        """,
    )
    assert out["html"] == "<!DOCTYPE html><p>Jello, world<!-- kept --></p><!-- kept -->"
    # Text arrives in chunks as the input did, the node's end marked by an empty last chunk.
    assert out["chunks"] == [["Hel", False], ["lo, wor", False], ["ld", False], ["", True]]
    assert out["comments"] == ["in p: in", "in", " secret ", " keep "]
    assert out["doctypes"] == [["html", None, None]]
    assert "".join(out["docText"]) == "Hello, world"


async def test_selectors(run: Run) -> None:
    out = await js(
        run,
        REWRITE
        + """
        const html = '<ul id=list><li>1</li><li class="a b">2</li><li lang=en-GB>3</li><li data-x="foo-bar">4</li></ul>'
          + '<div><p>d1</p><section><p>d2</p></section></div><p title="hello world">t</p>';
        const hits = {};
        const on = (selector) => [selector, { element(e) { (hits[selector] ??= []).push(e.tagName + ':' + [...e.attributes].map(([k, v]) => k + '=' + v).join(',')); } }];
        const selectors = ['li:nth-child(2)', 'li:first-child', 'li:nth-of-type(odd)', 'li:first-of-type', 'li:not(.a)',
          'li.b', 'ul#list > li[lang|="en"]', '[data-x$="bar"]', '[data-x*="o-b"]', '[title~="world"]', 'div p', 'div > p', 'section *'];
        await rewrite(html, (r) => { for (const s of selectors) r.on(...on(s)); return r; });
        const texts = [];
        await rewrite(html, (r) => r.on('li:not(:first-child)', { text(t) { if (t.text) texts.push(t.text); } }));
        Vortex.return({ hits, texts });
        """,
    )
    hits = out["hits"]
    assert hits["li:nth-child(2)"] == ["li:class=a b"]
    assert hits["li:first-child"] == ["li:"] == hits["li:first-of-type"]
    assert hits["li:nth-of-type(odd)"] == ["li:", "li:lang=en-GB"]
    assert hits["li:not(.a)"] == ["li:", "li:lang=en-GB", "li:data-x=foo-bar"]
    assert hits["li.b"] == ["li:class=a b"]
    assert hits['ul#list > li[lang|="en"]'] == ["li:lang=en-GB"]
    assert hits['[data-x$="bar"]'] == ["li:data-x=foo-bar"] == hits['[data-x*="o-b"]']
    assert hits['[title~="world"]'] == ["p:title=hello world"]
    assert hits["div p"] == ["p:", "p:"]
    assert hits["div > p"] == ["p:"]
    assert hits["section *"] == ["p:"]
    assert out["texts"] == ["2", "3", "4"]


async def test_async_handlers_are_awaited_in_order(run: Run) -> None:
    out = await js(
        run,
        REWRITE
        + """
        const order = [];
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        class Stamp {
          constructor(prefix) { this.prefix = prefix; this.n = 0; }
          async element(e) {
            const n = ++this.n;
            order.push('start ' + n);
            await sleep(20 - n * 5);
            e.setAttribute('data-stamp', this.prefix + n);
            order.push('end ' + n);
          }
        }
        const html = await rewrite('<p>a</p><p>b</p><p>c</p>', (r) => r
          .on('p', new Stamp('s'))
          .onDocument({ async end(end) { await sleep(1); end.append('<footer>done</footer>', { html: true }); } }));
        Vortex.return({ html, order });
        """,
    )
    assert out["html"] == (
        '<p data-stamp="s1">a</p><p data-stamp="s2">b</p><p data-stamp="s3">c</p><footer>done</footer>'
    )
    assert out["order"] == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]


async def test_output_streams_before_the_input_ends(run: Run) -> None:
    out = await js(
        run,
        """
        let input;
        const enc = new TextEncoder();
        const body = new ReadableStream({ start(c) { input = c; } });
        const rewritten = new HTMLRewriter()
          .on('a', { element(e) { e.setAttribute('href', '/rewritten'); } })
          .transform(new Response(body, { headers: { 'content-length': '999', 'x-kept': '1' } }));
        const reader = rewritten.body.getReader();
        const dec = new TextDecoder();
        input.enqueue(enc.encode('<html><body><a href="/first">first</a>'));
        let early = '';
        // The input is still open: what the first chunk made comes out now.
        while (!early.includes('first</a>')) early += dec.decode((await reader.read()).value, { stream: true });
        input.enqueue(enc.encode('<a href="/second">second</a></body></html>'));
        input.close();
        let rest = '';
        for (;;) { const { value, done } = await reader.read(); if (done) break; rest += dec.decode(value, { stream: true }); }
        Vortex.return({ early, rest, length: rewritten.headers.get('content-length'), kept: rewritten.headers.get('x-kept'), status: rewritten.status });
        """,
    )
    assert out["early"] == '<html><body><a href="/rewritten">first</a>'
    assert out["rest"] == '<a href="/rewritten">second</a></body></html>'
    assert out["length"] is None and out["kept"] == "1" and out["status"] == 200


async def test_a_malformed_page_passes_through_and_is_still_matched(run: Run) -> None:
    out = await js(
        run,
        REWRITE
        + """
        const html = '<div><p>unclosed <b>bold <i>both</div></span><p class=x =y z="1>2" "w><a href=/q>q</a></a></a>'
          + '<table><td>cell<tr><script>if (a < b && "</p>") {}</script><!-- unterminated <a href=/no>';
        const untouched = await rewrite(html, (r) => r);
        const seen = [];
        const touched = await rewrite(html, (r) => r.on('a', { element(e) { seen.push(e.getAttribute('href')); e.setAttribute('data-seen', ''); } }));
        Vortex.return({ same: untouched === html, seen, touched });
        """,
    )
    assert out["same"] is True
    assert out["seen"] == ["/q"]
    assert '<a href=/q data-seen="">q</a>' in out["touched"]


async def test_errors(run: Run) -> None:
    out = await js(
        run,
        REWRITE
        + """
        const name = (f) => { try { f(); return 'ok'; } catch (e) { return e.name; } };
        let kept;
        const late = await rewrite('<p>x</p>', (r) => r.on('p', { element(e) { kept = e; } }));
        const thrown = await new HTMLRewriter().on('p', { element() { throw new RangeError('mine'); } })
          .transform(new Response('<p>x</p>')).text().then(() => 'ok', (e) => e.name + ': ' + e.message);
        const rejected = await new HTMLRewriter().on('p', { async element() { throw new SyntaxError('async'); } })
          .transform(new Response('<p>x</p>')).text().then(() => 'ok', (e) => e.name + ': ' + e.message);
        const used = new Response('<p>x</p>');
        await used.text();
        Vortex.return({
          badSelector: name(() => new HTMLRewriter().on('p:hover', {})),
          badHandlers: name(() => new HTMLRewriter().on('p', { element: 1 })),
          notResponse: name(() => new HTMLRewriter().transform('<p>')),
          usedBody: name(() => new HTMLRewriter().transform(used)),
          afterHandler: name(() => kept.setAttribute('a', 'b')),
          construct: name(() => new kept.constructor()),
          own: Reflect.ownKeys(kept),
          late, thrown, rejected,
          nullBody: new HTMLRewriter().on('p', {}).transform(new Response(null, { status: 204 })).status,
          tag: String(new HTMLRewriter()),
          again: await (async () => {
            const r = new HTMLRewriter().on('p', { element(e) { e.setInnerContent('n'); } });
            return [await r.transform(new Response('<p>1</p>')).text(), await r.transform(new Response('<p>2</p>')).text()];
          })(),
        });
        """,
    )
    assert out == {
        "badSelector": "TypeError",
        "badHandlers": "TypeError",
        "notResponse": "TypeError",
        "usedBody": "TypeError",
        "afterHandler": "TypeError",
        "construct": "TypeError",
        "own": [],
        "late": "<p>x</p>",
        "thrown": "RangeError: mine",
        "rejected": "SyntaxError: async",
        "nullBody": 204,
        "tag": "[object HTMLRewriter]",
        "again": ["<p>n</p>", "<p>n</p>"],
    }


APP = """
const PAGE = ['<!doctype html><html><head><title>shop</title></head><body>',
  '<a href="http://cdn.example/a.css">css</a><div class="ad">ad</div>',
  '<p>price: <span id=price>10</span></p></body></html>'];

export default {
  async fetch(request, env, ctx) {
    const enc = new TextEncoder();
    let i = 0;
    // The origin, slow: its parts come 400 ms apart.
    const origin = new Response(new ReadableStream({
      async pull(c) {
        if (i > 0) await new Promise((r) => setTimeout(r, 400));
        if (i < PAGE.length) c.enqueue(enc.encode(PAGE[i++])); else c.close();
      },
    }), { headers: { 'content-type': 'text/html; charset=utf-8' } });
    return new HTMLRewriter()
      .on('a[href^="http:"]', { element(e) { e.setAttribute('href', e.getAttribute('href').replace('http:', 'https:')); } })
      .on('.ad', { element(e) { e.remove(); } })
      .on('#price', { async element(e) { await null; e.setInnerContent(String(Number(new URL(request.url).searchParams.get('p')) * 2)); } })
      .on('body', { element(e) { e.append('<script>window.injected = 1</script>', { html: true }); } })
      .transform(origin);
  },
};
"""

SERVICE_WORKER = """
addEventListener('fetch', (event) => {
  event.respondWith(new HTMLRewriter()
    .on('h1', { element(e) { e.tagName = 'h2'; } })
    .transform(new Response('<h1>sw</h1>', { headers: { 'content-type': 'text/html' } })));
});
"""


async def _deploy(http: aiohttp.ClientSession, code: str, filename: str) -> str:
    name = f"rewriter-{time.monotonic_ns() % 10**9}"
    async with http.post("/deploy", json={"code": code, "filename": filename, "name": name}) as r:
        assert r.status == 200, await r.text()
    return name


async def test_a_workers_app_rewrites_on_the_listener(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await _deploy(http, APP, "index.mjs")
    async with (
        aiohttp.ClientSession() as client,
        client.get(server.fn_url(name, "/?p=21")) as response,
    ):
        assert response.status == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        first = await response.content.readany()
        arrived = time.monotonic()
        rest = await response.read()
        finished = time.monotonic()
    page = (first + rest).decode()
    assert page == (
        "<!doctype html><html><head><title>shop</title></head><body>"
        '<a href="https://cdn.example/a.css">css</a>'
        "<p>price: <span id=price>42</span></p>"
        "<script>window.injected = 1</script></body></html>"
    )
    # The head left before the origin had sent the rest (two more parts, 400 ms apart).
    assert b"price" not in first
    assert finished - arrived > 0.3


async def test_a_service_worker_has_it_too(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await _deploy(http, SERVICE_WORKER, "worker.js")
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(name)) as response:
        assert (response.status, await response.text()) == (200, "<h2>sw</h2>")
    await asyncio.sleep(0)
