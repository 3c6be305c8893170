// Cost of a new isolated-vm isolate + context + evaluating a trivial script, per iteration.
const ivm = require("isolated-vm");
const n = Number(process.argv[2] || 200);
const times = [];
for (let i = 0; i < n; i++) {
  const t = process.hrtime.bigint();
  const isolate = new ivm.Isolate({ memoryLimit: 8 });
  const context = isolate.createContextSync();
  context.evalSync("JSON.stringify({ hello: 'world' })");
  context.release();
  isolate.dispose();
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
process.stdout.write(JSON.stringify(times));
