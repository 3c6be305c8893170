export default { fetch(req) { return new Response(req.body, {headers: {"content-type": req.headers.get("content-type") || "application/octet-stream"}}) } }
