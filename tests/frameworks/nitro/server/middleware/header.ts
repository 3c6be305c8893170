export default defineEventHandler((event) => {
  setResponseHeader(event, "x-nitro-middleware", "yes");
});
