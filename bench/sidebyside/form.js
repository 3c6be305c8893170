export default { async fetch(req) { const f = await req.formData(); return Response.json([...f].map(([k,v]) => [k, typeof v === "string" ? v : {name: v.name, type: v.type, size: v.size}])) } }
