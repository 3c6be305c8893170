export default { fetch(req) { return new Response("x", {headers: {"x-lat": "caf\u00e9", "x-euro": "\u20ac5", "x-echo": req.headers.get("x-in") || ""}}) } }
