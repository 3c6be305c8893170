export default { async fetch() {
  const html = '<!doctype html><html><head><title>T</title></head><body><a href="/x">x</a><p class="a">hi &amp; bye</p><img src="a.png"><script>var a = "</p>";</script></body></html>';
  const res = new HTMLRewriter()
    .on("a", { element(e) { e.setAttribute("href", "https://e.com" + e.getAttribute("href")); e.append(" (ext)", {html: false}); } })
    .on("p", { text(t) { if (t.text) t.replace(t.text.toUpperCase()); } })
    .on("img", { element(e) { e.remove(); } })
    .on("title", { element(e) { e.setInnerContent("New <T>"); } })
    .onDocument({ end(end) { end.append("<!-- end -->", {html: true}); } })
    .transform(new Response(html, {headers: {"content-type": "text/html"}}));
  return new Response(await res.text());
} }
