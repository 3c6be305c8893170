export default { fetch(req) {
  const p = new URLPattern({ pathname: "/books/:id(\\d+)/:rest*" });
  const m = p.exec(req.url);
  return Response.json({ok: p.test(req.url), groups: m && m.pathname.groups});
} }
