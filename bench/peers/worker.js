// The hello-world fetch handler workerd serves in the benchmark.
export default {
  async fetch(request) {
    return Response.json({ hello: "world" });
  },
};
