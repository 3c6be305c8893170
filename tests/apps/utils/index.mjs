// Small libraries Workers commonly bundle, each used as its README shows:
// @tsndr/cloudflare-worker-jwt, nanoid, superjson and date-fns, behind itty-router.
import jwt from '@tsndr/cloudflare-worker-jwt'
import { addDays, differenceInCalendarDays, format, formatDistanceStrict, parseISO } from 'date-fns'
import { AutoRouter } from 'itty-router'
import { customAlphabet, nanoid } from 'nanoid'
import superjson from 'superjson'

const router = AutoRouter()

router.post('/jwt/sign', async (request, env) => {
  const token = await jwt.sign(await request.json(), env.JWT_SECRET)
  return { token }
})

router.get('/jwt/verify', async (request, env) => {
  const token = (request.headers.get('Authorization') ?? '').replace(/^Bearer /, '')
  const verified = await jwt.verify(token, env.JWT_SECRET)
  if (!verified) return new Response('invalid token', { status: 401 })
  return { payload: verified.payload, decoded: jwt.decode(token).header }
})

router.get('/ids', () => {
  const short = customAlphabet('1234567890abcdef', 10)
  return { id: nanoid(), small: nanoid(10), hex: short() }
})

router.get('/superjson', () => {
  const value = {
    when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    tags: new Set(['a', 'b']),
    sizes: new Map([['x', 1n]]),
    nothing: undefined,
    pattern: /ab+c/gi,
  }
  const back = superjson.parse(superjson.stringify(value))
  return {
    serialized: superjson.serialize(value),
    roundTrip: back.when instanceof Date && back.tags.has('b') && back.sizes.get('x') === 1n,
  }
})

router.get('/dates', ({ query }) => {
  const start = parseISO(query.from)
  const due = addDays(start, Number(query.days))
  return {
    due: format(due, 'yyyy-MM-dd'),
    weekday: format(due, 'EEEE'),
    days: differenceInCalendarDays(due, start),
    distance: formatDistanceStrict(start, due),
  }
})

export default router
