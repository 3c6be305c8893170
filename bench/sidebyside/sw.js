addEventListener("fetch", (event) => {
  event.respondWith(handle(event.request));
});
async function handle(req) { return new Response("sw " + req.method + " " + new URL(req.url).pathname, {headers: {"x-type": typeof event}}); }
