export default { fetch() {
  const enc = new TextEncoder();
  let i = 0;
  return new Response(new ReadableStream({ pull(c) { if (i++ < 3) c.enqueue(enc.encode("chunk" + i + "\n")); else c.close(); } }), {headers: {"content-type": "text/plain"}});
} }
