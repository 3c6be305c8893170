export default { fetch() { return new Response(new Uint8Array([0,1,2,255])) } }
