export default { fetch() { return new Response(new Blob(["<b>x</b>"], {type: "text/html"})) } }
