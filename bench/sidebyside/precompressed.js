export default { fetch() {
  const body = new Response("compress me ".repeat(50)).body.pipeThrough(new CompressionStream("gzip"));
  const r = new Response(body, {headers: {"content-type": "text/plain"}});
  const out = new Response(r.body, r);
  out.headers.set("Content-Encoding", "gzip");
  return out;
} }
