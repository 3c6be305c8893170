// Answers after 100 ms: 10,000 of these at once measure concurrency, not CPU.
export default {
  async fetch() {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return new Response("Hello World!");
  },
};
