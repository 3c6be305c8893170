export default defineEventHandler(async (event) => {
  const id = getRouterParam(event, "id");
  if (id === "missing") throw createError({ statusCode: 404, statusMessage: "No such item" });
  await useStorage("cache").setItem("last", id);
  return { id, q: getQuery(event).q, last: await useStorage("cache").getItem("last") };
});
