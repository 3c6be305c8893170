export default { async fetch(req) {
  if (!req.body) return Response.json({body: null});
  const r = req.body.getReader(); let n = 0, total = 0;
  for (;;) { const {done, value} = await r.read(); if (done) break; n++; total += value.byteLength; if (!(value instanceof Uint8Array)) return new Response("not u8"); }
  return Response.json({total, ctor: req.body.constructor.name});
} }
