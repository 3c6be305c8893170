export default { fetch(req) { return new Response("body for " + req.method, {headers: {"x-m": req.method}}) } }
