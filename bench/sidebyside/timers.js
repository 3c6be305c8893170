export default { async fetch() {
  const order = [];
  setTimeout(() => order.push("t0"), 0);
  queueMicrotask(() => order.push("micro"));
  Promise.resolve().then(() => order.push("then"));
  await new Promise(r => setTimeout(r, 10));
  const id = setInterval(() => {}, 1000); clearInterval(id);
  const t0 = Date.now(); await scheduler.wait(20); const waited = Date.now() - t0;
  return Response.json({order, idType: typeof id, waitedOk: waited >= 15});
} }
