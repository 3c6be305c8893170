export default defineEventHandler((event) => {
  const name = getQuery(event).name ?? "world";
  return `<h1>Hello, ${name}!</h1><p>${event.context.cloudflare?.env?.GREETING}</p>`;
});
