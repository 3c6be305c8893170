import { Form } from "react-router";
import type { Route } from "./+types/home";

export function meta({}: Route.MetaArgs) {
  return [{ title: "New React Router App" }];
}

export function loader({ context, request }: Route.LoaderArgs) {
  const name = new URL(request.url).searchParams.get("name") ?? "world";
  return { message: context.cloudflare.env.VALUE_FROM_CLOUDFLARE, name };
}

export async function action({ request }: Route.ActionArgs) {
  const data = await request.formData();
  return { echoed: String(data.get("message")).toUpperCase() };
}

export default function Home({ loaderData, actionData }: Route.ComponentProps) {
  return (
    <main>
      <h1>{loaderData.message}, {loaderData.name}!</h1>
      <Form method="post"><input name="message" /><button>Send</button></Form>
      {actionData ? <p className="echo">{actionData.echoed}</p> : null}
    </main>
  );
}
