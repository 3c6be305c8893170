export default { fetch() {
  const h = new Headers();
  h.append("Set-Cookie", "a=1; Path=/");
  h.append("Set-Cookie", "b=2; Path=/");
  h.append("X-Multi", "one");
  h.append("X-Multi", "two");
  return new Response("ok", {headers: h});
} }
