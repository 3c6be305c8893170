export default { fetch(req) { const s = Number(new URL(req.url).searchParams.get("s")); return new Response("x", {status: s}) } }
