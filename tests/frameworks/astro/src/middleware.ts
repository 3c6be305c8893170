import { defineMiddleware } from 'astro:middleware';

export const onRequest = defineMiddleware(async (context, next) => {
  context.locals.visits = Number(context.cookies.get('visits')?.value ?? '0') + 1;
  const response = await next();
  response.headers.set('x-middleware', 'astro');
  return response;
});
