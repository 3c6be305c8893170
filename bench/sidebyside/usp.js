export default { fetch() { return new Response(new URLSearchParams({a: "1 2", b: "é"})) } }
