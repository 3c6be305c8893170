// node:timers, which unenv's Cloudflare preset maps setTimeout to, and a streamed body
export default defineEventHandler(async (event) => {
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const stream = new ReadableStream({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode("first\n"));
      await new Promise((resolve) => setTimeout(resolve, 300));
      controller.enqueue(new TextEncoder().encode("second\n"));
      controller.close();
    },
  });
  setResponseHeader(event, "x-waited", String(Date.now() - started >= 50));
  return sendStream(event, stream);
});
