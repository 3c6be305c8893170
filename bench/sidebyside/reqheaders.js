export default { async fetch(req) { return Response.json([...req.headers].filter(([k]) => k.startsWith("x-") || k === "cookie" || k === "accept")) } }
