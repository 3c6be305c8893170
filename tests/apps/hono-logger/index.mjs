// Hono's logger middleware, as its documentation shows (https://hono.dev/docs/middleware/builtin/logger).
import { Hono } from 'hono'
import { logger } from 'hono/logger'

const app = new Hono()

app.use(logger())
app.get('/', (c) => c.text('logged'))

export default app
