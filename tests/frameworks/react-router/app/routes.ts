import { type RouteConfig, index, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  route("api/items/:id", "routes/item.ts"),
  route("deferred", "routes/deferred.tsx"),
] satisfies RouteConfig;
