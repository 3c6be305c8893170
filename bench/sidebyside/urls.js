export default { fetch(req) {
  const out = {};
  for (const u of ["http://example.com/ä?x=ü#f", "http://EXAMPLE.com:80/a/../b", "https://münchen.de/", "http://[::1]:8080/", "http://a.com/%zz", "file:///etc/passwd", "http://a.com/?q=a b", "blob:https://a.com/uuid"]) {
    try { const p = new URL(u); out[u] = [p.href, p.host, p.pathname, p.search, p.origin]; } catch (e) { out[u] = e.name; }
  }
  out.req = req.url;
  const sp = new URLSearchParams("b=2&a=1&a=0&c=%20+"); sp.sort(); out.sp = sp.toString();
  return Response.json(out);
} }
