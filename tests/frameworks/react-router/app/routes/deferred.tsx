import { Suspense } from "react";
import { Await } from "react-router";
import type { Route } from "./+types/deferred";

export function loader({ request }: Route.LoaderArgs) {
  const ms = Number(new URL(request.url).searchParams.get("ms") ?? "300");
  return {
    now: "at once",
    later: new Promise<string>((resolve) => setTimeout(() => resolve(`after ${ms} ms`), ms)),
  };
}

export default function Deferred({ loaderData }: Route.ComponentProps) {
  return (
    <main>
      <p className="now">{loaderData.now}</p>
      <Suspense fallback={<p className="wait">waiting</p>}>
        <Await resolve={loaderData.later}>{(value) => <p className="later">{value}</p>}</Await>
      </Suspense>
    </main>
  );
}
