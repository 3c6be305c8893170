export default { fetch() { return new Response("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", {headers: {"content-encoding": "gzip", "content-type": "text/plain"}}) } }
