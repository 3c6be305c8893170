// A Hono API with @hono/zod-openapi, as its docs show it: routes declared with zod schemas,
// validated params and bodies, the OpenAPI document at /doc; and Hono's cache middleware,
// which puts answers into the Cache API (caches.open) as Hono's docs show for Workers.
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { cache } from 'hono/cache';

const app = new OpenAPIHono();

const ParamsSchema = z.object({
  id: z
    .string()
    .min(3)
    .openapi({ param: { name: 'id', in: 'path' }, example: '1212121' }),
});

const UserSchema = z
  .object({
    id: z.string().openapi({ example: '123' }),
    name: z.string().openapi({ example: 'John Doe' }),
    age: z.number().openapi({ example: 42 }),
  })
  .openapi('User');

const getUser = createRoute({
  method: 'get',
  path: '/users/{id}',
  request: { params: ParamsSchema },
  responses: {
    200: {
      content: { 'application/json': { schema: UserSchema } },
      description: 'Retrieve the user',
    },
  },
});

app.openapi(getUser, (c) => {
  const { id } = c.req.valid('param');
  return c.json({ id, age: 20, name: 'Ultra-man' }, 200);
});

const createUser = createRoute({
  method: 'post',
  path: '/users',
  request: {
    body: { content: { 'application/json': { schema: UserSchema.omit({ id: true }) } } },
  },
  responses: {
    201: { content: { 'application/json': { schema: UserSchema } }, description: 'Created' },
  },
});

app.openapi(createUser, (c) => c.json({ id: 'new', ...c.req.valid('json') }, 201));

app.doc('/doc', { openapi: '3.0.0', info: { version: '1.0.0', title: 'My API' } });

app.get('/cached/*', cache({ cacheName: 'my-app', cacheControl: 'max-age=3600', wait: true }));
app.get('/cached/:name', (c) => c.text(`hello ${c.req.param('name')} at ${crypto.randomUUID()}`));

export default app;
