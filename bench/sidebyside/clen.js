export default { fetch() { return new Response("12345", {headers: {"content-length": "5", "x-a": "b"}}) } }
