export default { async fetch(req) {
  const [a, b] = new Response("teed body").body.tee();
  const t1 = await new Response(a).text(); const t2 = await new Response(b).text();
  const r = new Response("clone me"); const c = r.clone();
  return Response.json({t1, t2, r: await r.text(), c: await c.text(), used: r.bodyUsed});
} }
