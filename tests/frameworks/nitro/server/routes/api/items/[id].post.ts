export default defineEventHandler(async (event) => {
  setResponseStatus(event, 201);
  return { id: getRouterParam(event, "id"), received: await readBody(event) };
});
