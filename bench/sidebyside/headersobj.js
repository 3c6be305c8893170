export default { fetch(req) {
  const h = new Headers({"B": "2", "a": "1", "Content-Type": "x/y"});
  return Response.json({entries: [...h], ct: h.get("content-type"), has: h.has("A"), reqHost: req.headers.get("host")});
} }
