export default { async fetch(req) {
  const upper = new TransformStream({ transform(chunk, c) { c.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase())); } });
  return new Response(req.body.pipeThrough(upper));
} }
