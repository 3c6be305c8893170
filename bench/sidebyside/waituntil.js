let log = [];
export default { async fetch(req, env, ctx) {
  const before = log.slice();
  ctx.waitUntil(new Promise(r => setTimeout(() => { log.push("late"); r(); }, 50)));
  return Response.json({before, hasPass: typeof ctx.passThroughOnException, envType: typeof env, keys: Object.keys(ctx).sort()});
} }
