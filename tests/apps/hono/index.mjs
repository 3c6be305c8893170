// A Hono app written the way Hono's documentation shows (https://hono.dev/docs/), unmodified
// for Vortex: bundled with the real package as wrangler bundles it, then deployed as one file.
import { Hono } from 'hono'
import { basicAuth } from 'hono/basic-auth'
import { getCookie, setCookie } from 'hono/cookie'
import { cors } from 'hono/cors'
import { etag } from 'hono/etag'
import { HTTPException } from 'hono/http-exception'
import { jwt, sign } from 'hono/jwt'
import { secureHeaders } from 'hono/secure-headers'
import { stream } from 'hono/streaming'

const app = new Hono()

// Middleware
app.use('/secure/*', secureHeaders())
app.use('/auth/*', jwt({ secret: 'it-is-very-secret', alg: 'HS256' }))
app.use('/api/*', cors())
app.use('/etag/*', etag())
app.use(
  '/admin/*',
  basicAuth({
    username: 'hono',
    password: 'acoolproject',
  })
)
app.use('*', async (c, next) => {
  const start = Date.now()
  await next()
  c.header('X-Response-Time', `${Date.now() - start}ms`)
})

// Routing
app.get('/', (c) => c.text('Hello Hono!'))

app.get('/users/:id', (c) => {
  const id = c.req.param('id')
  return c.json({ id })
})

app.get('/posts/:postId/comments/:commentId', (c) => {
  const { postId, commentId } = c.req.param()
  return c.json({ postId, commentId })
})

app.get('/search', (c) => {
  const query = c.req.query('q')
  const tags = c.req.queries('tags')
  const limit = c.req.query('limit') ?? '10'
  return c.json({ query, tags, limit: Number(limit) })
})

app.post('/posts', async (c) => {
  const body = await c.req.json()
  return c.json({ message: 'Created!', post: body }, 201)
})

app.put('/posts/:id', async (c) => {
  const text = await c.req.text()
  return c.text(`updated ${c.req.param('id')} with ${text}`)
})

app.delete('/posts/:id', (c) => c.body(null, 204))

app.get('/page', (c) => c.html('<h1>Hello! Hono!</h1>'))

app.get('/redirect', (c) => c.redirect('/'))
app.get('/redirect-permanently', (c) => c.redirect('/', 301))

app.get('/headers', (c) => {
  const userAgent = c.req.header('User-Agent')
  c.header('X-Message', 'Hello!')
  c.header('Cache-Control', 'max-age=60')
  return c.json({ userAgent })
})

app.get('/url', (c) =>
  c.json({ url: c.req.url, path: c.req.path, method: c.req.method, host: c.req.header('Host') })
)

app.get('/cookie', (c) => {
  const visits = Number(getCookie(c, 'visits') ?? '0') + 1
  setCookie(c, 'visits', String(visits), { path: '/', httpOnly: true })
  return c.text(`visit ${visits}`)
})

app.post('/form', async (c) => {
  const body = await c.req.parseBody()
  return c.json(body)
})

app.get('/stream', (c) =>
  stream(c, async (stream) => {
    await stream.write(new Uint8Array([0x48, 0x65, 0x6c, 0x6c, 0x6f]))
    await stream.write(', ')
    await stream.write('streamed!')
  })
)

app.get('/etag/data', (c) => c.text('Hono is cool'))

app.get('/admin/page', (c) => c.text('You are authorized'))

app.get('/secure/page', (c) => c.text('with secure headers'))

app.post('/token', async (c) => {
  const { sub } = await c.req.json()
  const token = await sign({ sub, role: 'admin' }, 'it-is-very-secret')
  return c.json({ token })
})

app.get('/auth/page', (c) => {
  const payload = c.get('jwtPayload')
  return c.json(payload)
})

app.get('/bytes', (c) => {
  c.header('Content-Type', 'application/octet-stream')
  return c.body(new Uint8Array([0, 1, 2, 253, 254, 255]))
})

app.get('/wait', (c) => {
  c.executionCtx.waitUntil(Promise.resolve().then(() => console.log('after the response')))
  return c.text('queued')
})

app.get('/wild/*/card', (c) => c.text(`wildcard ${c.req.path}`))

app.get('/error', () => {
  throw new Error('Something bad happened')
})

app.get('/forbidden', () => {
  throw new HTTPException(403, { message: 'Forbidden by Hono' })
})

// Grouping
const api = new Hono()
const books = [
  { id: 1, title: 'Hono in Action' },
  { id: 2, title: 'Workers at the Edge' },
]
api.get('/books', (c) => c.json(books))
api.get('/books/:id{[0-9]+}', (c) => {
  const book = books.find((b) => b.id === Number(c.req.param('id')))
  return book ? c.json(book) : c.notFound()
})
api.post('/books', async (c) => {
  const { title } = await c.req.json()
  return c.json({ id: books.length + 1, title }, 201)
})
app.route('/api', api)

app.notFound((c) => c.text('Custom 404 Message', 404))

app.onError((err, c) => {
  if (err instanceof HTTPException) {
    return err.getResponse()
  }
  console.error(`${err}`)
  return c.text('Custom Error Message', 500)
})

export default app
