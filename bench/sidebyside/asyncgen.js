export default { fetch() {
  const {readable, writable} = new TransformStream();
  (async () => { const w = writable.getWriter(); for (let i = 0; i < 3; i++) { await new Promise(r => setTimeout(r, 20)); await w.write(new TextEncoder().encode(`data: ${i}\n\n`)); } await w.close(); })();
  return new Response(readable, {headers: {"content-type": "text/event-stream"}});
} }
