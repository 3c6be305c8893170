export default { fetch(req) {
  const s = Number(new URL(req.url).searchParams.get("s") || 299);
  return new Response("x", {status: s, statusText: "Custom Text"});
} }
