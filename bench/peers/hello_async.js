// Hello world from an async handler with one await: what a turn of the microtask queue costs.
export default {
  async fetch() {
    await null;
    return new Response("Hello World!");
  },
};
