// An itty-router v5 app written the way itty's documentation shows (https://itty.dev/itty-router/),
// unmodified for Vortex: bundled with the real package as wrangler bundles it, deployed as one file.
import { AutoRouter, cors, error, html, json, status, text } from 'itty-router'

const { preflight, corsify } = cors({
  origin: '*',
  allowMethods: ['GET', 'POST', 'DELETE'],
  maxAge: 84400,
})

const router = AutoRouter({
  before: [preflight],
  finally: [corsify],
})

const todos = [{ id: '1', title: 'read the docs' }]

router
  .get('/', () => 'Success!')
  .get('/hello/:name', ({ name }) => `Hello, ${name}!`)
  .get('/json', () => ({ foo: 'bar', n: 1 }))
  .get('/todos', ({ query }) => todos.slice(0, Number(query.limit ?? todos.length)))
  .get('/todos/:id', ({ id }) => todos.find((todo) => todo.id === id) ?? error(404, 'Todo not found'))
  .post('/todos', async (request) => {
    const todo = await request.json()
    return json({ id: '2', ...todo }, { status: 201 })
  })
  .delete('/todos/:id', () => status(204))
  .get('/search', ({ query }) => ({ q: query.q, tags: query.tag }))
  .get('/url', (request) => ({ url: request.url, method: request.method, route: request.route }))
  .get('/text', () => text('plain text'))
  .get('/page', () => html('<p>itty page</p>'))
  .get('/teapot', () => error(418, 'I am a teapot'))
  .get('/throw', () => {
    throw new Error('Bad Request')
  })
  .get('/files/:path+', ({ path }) => ({ path }))

export default router
