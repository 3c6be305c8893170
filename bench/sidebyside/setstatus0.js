export default { fetch() { try { return new Response("x", {status: 100}) } catch (e) { return new Response(e.constructor.name + ": " + e.message) } } }
