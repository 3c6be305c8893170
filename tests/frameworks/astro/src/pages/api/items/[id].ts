import type { APIRoute } from 'astro';

export const GET: APIRoute = ({ params, url, locals }) => {
  if (params.id === 'missing') return new Response('No such item', { status: 404 });
  return Response.json({
    id: params.id,
    q: url.searchParams.get('q'),
    greeting: locals.runtime.env.GREETING,
    waitUntil: typeof locals.runtime.ctx.waitUntil,
  });
};

export const POST: APIRoute = async ({ params, request }) => {
  const body = await request.json();
  return Response.json({ id: params.id, received: body }, { status: 201 });
};
