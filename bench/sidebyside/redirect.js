export default { fetch() { return Response.redirect("https://example.com/a b", 301) } }
