import { data } from "react-router";
import type { Route } from "./+types/item";

export function loader({ params, request }: Route.LoaderArgs) {
  if (params.id === "missing") throw data({ message: "No such item" }, { status: 404 });
  return Response.json({ id: params.id, q: new URL(request.url).searchParams.get("q") });
}

export async function action({ params, request }: Route.ActionArgs) {
  return Response.json({ id: params.id, received: await request.json() }, { status: 201 });
}
