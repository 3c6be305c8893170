import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async fetch(req) { return Response.json({env: typeof this.env, ctx: typeof this.ctx, wu: typeof this.ctx.waitUntil}); }
}
