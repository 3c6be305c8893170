export default { fetch() {
  const out = {};
  const h = new Headers([["X-B", "1"], ["x-a", " padded  "], ["x-b", "2"], ["Set-Cookie", "z=1"], ["set-cookie", "a=2"]]);
  out.entries = [...h];
  out.get = h.get("x-b");
  try { h.append("x-c", "é"); out.latin = h.get("x-c"); } catch (e) { out.latin = e.name; }
  try { h.append("x-d", "€"); out.nonlatin = h.get("x-d"); } catch (e) { out.nonlatin = e.name + ": " + e.message; }
  const r = new Response("x"); try { r.headers.set("x", "1"); out.respMutable = r.headers.get("x"); } catch (e) { out.respMutable = e.name; }
  const rr = Response.redirect("https://a.com/"); try { rr.headers.set("x", "1"); out.redirMutable = "yes"; } catch (e) { out.redirMutable = e.name; }
  return Response.json(out);
} }
