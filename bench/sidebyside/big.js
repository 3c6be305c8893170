export default { fetch(req) { const n = Number(new URL(req.url).searchParams.get("n") || 5e6); return new Response("y".repeat(n)) } }
