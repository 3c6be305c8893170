// A Hono app written the way Hono's documentation shows (https://hono.dev/docs/), unmodified
// for Vortex: bundled with the real package as wrangler bundles it, then deployed as one file.
import { zValidator } from '@hono/zod-validator'
import { Hono } from 'hono'
import { basicAuth } from 'hono/basic-auth'
import { bodyLimit } from 'hono/body-limit'
import { getConnInfo } from 'hono/cloudflare-workers'
import { compress } from 'hono/compress'
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie'
import { cors } from 'hono/cors'
import { etag } from 'hono/etag'
import { html } from 'hono/html'
import { HTTPException } from 'hono/http-exception'
import { jwt, sign } from 'hono/jwt'
import { prettyJSON } from 'hono/pretty-json'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { stream, streamSSE, streamText } from 'hono/streaming'
import { endTime, setMetric, startTime, timing } from 'hono/timing'
import { validator } from 'hono/validator'
import { z } from 'zod'

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
app.use('/compress/*', compress())
app.use('/pretty/*', prettyJSON())
app.use('/timing/*', timing())
app.use('/request-id/*', requestId())
app.use('/limited/*', bodyLimit({ maxSize: 16, onError: (c) => c.text('overflow :(', 413) }))
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

app.get('/sse', (c) =>
  streamSSE(c, async (stream) => {
    for (let id = 0; id < 3; id++) {
      await stream.writeSSE({ data: `tick ${id}`, event: 'time-update', id: String(id) })
      await stream.sleep(10)
    }
  })
)

app.get('/stream-text', (c) =>
  streamText(c, async (stream) => {
    await stream.writeln('Hello')
    await stream.sleep(10)
    await stream.write('Hono!')
  })
)

app.get('/compress/text', (c) => c.text('compress me '.repeat(200)))

app.get('/pretty/data', (c) => c.json({ project: { name: 'hono', stars: 1 } }))

app.get('/timing/work', async (c) => {
  startTime(c, 'db')
  await new Promise((resolve) => setTimeout(resolve, 5))
  endTime(c, 'db')
  setMetric(c, 'region', 'local')
  return c.text('timed')
})

app.get('/request-id/echo', (c) => c.text(c.get('requestId')))

app.post('/limited/upload', async (c) => c.text(`got ${(await c.req.text()).length} bytes`))

app.get('/ip', (c) => c.json(getConnInfo(c).remote))

app.get('/template/:name', (c) => {
  const name = c.req.param('name')
  return c.html(html`<!doctype html><p>Hello, ${name}!</p>`)
})

app.post(
  '/validated/form',
  validator('form', (value, c) => {
    const body = value['body']
    if (!body || typeof body !== 'string') {
      return c.text('Invalid!', 400)
    }
    return { body }
  }),
  (c) => c.json({ message: 'Created!', body: c.req.valid('form').body }, 201)
)

const Author = z.object({ name: z.string().min(1), age: z.number().int().positive() })
app.post('/validated/author', zValidator('json', Author), (c) => {
  const author = c.req.valid('json')
  return c.json({ success: true, message: `${author.name} is ${author.age}` })
})
app.get(
  '/validated/search',
  zValidator('query', z.object({ q: z.string(), page: z.coerce.number().default(1) })),
  (c) => c.json(c.req.valid('query'))
)

app.get('/signed-cookie', async (c) => {
  const secret = 'a-cookie-secret'
  const seen = await getSignedCookie(c, secret, 'session')
  if (seen === undefined) {
    await setSignedCookie(c, 'session', 'ann', secret, { path: '/', httpOnly: true })
  }
  return c.json({ seen: seen ?? null })
})

app.get('/cookies/all', (c) => c.json(getCookie(c)))

app.get('/cookies/clear', (c) => {
  const removed = deleteCookie(c, 'visits', { path: '/' })
  return c.text(`removed ${removed}`)
})

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
