export default { async fetch(req) {
  const c = new AbortController(); c.abort(new Error("why"));
  const s = AbortSignal.timeout(10); await new Promise(r => setTimeout(r, 30));
  return Response.json({aborted: c.signal.aborted, reason: String(c.signal.reason), timeoutReason: s.reason && s.reason.name, reqSignal: req.signal ? req.signal.aborted : "none", any: typeof AbortSignal.any});
} }
