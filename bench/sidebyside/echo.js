export default { async fetch(req) {
  const h = [...req.headers].filter(([k]) => !["cf-connecting-ip","x-forwarded-for","x-real-ip","cf-ray","cf-visitor","x-forwarded-proto","cdn-loop","cf-ipcountry","cf-worker"].includes(k));
  const body = await req.text();
  const u = new URL(req.url);
  return Response.json({method: req.method, path: u.pathname, search: u.search, headers: h, body, bodyUsed: req.bodyUsed, redirect: req.redirect, cfType: typeof req.cf, keepalive: req.keepalive, signal: typeof req.signal, integrity: req.integrity});
} }
