// Hello world: the fetch handler Vortex and workerd both serve in the benchmark.
export default {
  fetch() {
    return new Response("Hello World!");
  },
};
