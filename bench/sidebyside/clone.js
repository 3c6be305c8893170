export default { fetch() {
  const v = structuredClone({m: new Map([[1, {a: 2}]]), s: new Set([1, 2]), d: new Date(0), r: /a+/gi, e: new RangeError("bad"), b: new Uint8Array([1,2]), n: 10n, u: undefined, nested: [[1], {x: null}]});
  return Response.json({m: [...v.m], s: [...v.s], d: v.d.toISOString(), r: String(v.r), e: [v.e.name, v.e.message, v.e instanceof RangeError], b: [...v.b], n: String(v.n), hasU: "u" in v, nested: v.nested});
} }
