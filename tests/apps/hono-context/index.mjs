// Hono's context storage middleware, as its documentation shows
// (https://hono.dev/docs/middleware/builtin/context-storage): getContext() reaches the request's
// context from code that is not given it, across awaits and timers, through node:async_hooks.
import { Hono } from 'hono'
import { contextStorage, getContext } from 'hono/context-storage'

const app = new Hono()

app.use(contextStorage())

app.use(async (c, next) => {
  c.set('message', 'Hello ' + (c.req.query('who') ?? 'nobody'))
  await next()
})

// Far from the handler, as a logger or a database helper would be.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const message = async () => {
  await sleep(Number(getContext().req.query('ms') ?? 0))
  return getContext().var.message
}

app.get('/', async (c) => {
  const first = await message()
  await Promise.resolve()
  return c.text(first + ' / ' + (await message()))
})

export default app
