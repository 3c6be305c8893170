"""HTMLRewriter, as Workers provide it, over lol-html in WebAssembly (js/src/htmlrewriter.js):
element, text, comment and document handlers, selectors, async handlers and streaming."""

from __future__ import annotations

from tests.jsrun import Run, js

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
            .on('img', { element(e) { seen.push([e.tagName, e.hasAttribute('alt'), e.hasAttribute('title'), e.getAttribute('title'), [...e.attributes]]); } })),
          seen,
        });
        """,
    )
    assert out["html"] == (
        '<a href="https://a.example/x">a</a><a href="https://b.example/">b</a>'
        '<a href="https://c.example/" rel="noopener">c</a><img src=x.png alt=y>'
    )
    assert out["seen"] == [["img", True, False, None, [["src", "x.png"], ["alt", "y"]]]]
