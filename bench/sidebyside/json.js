export default { fetch() { return Response.json({a: 1, b: "é"}) } }
