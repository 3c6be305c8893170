// itty-router v5's classic Router, wired by hand as its documentation shows: withParams
// upstream, json() on the way out, error() on a throw, a catch-all 404.
import { Router, error, json, withParams } from 'itty-router'

const router = Router()

router
  .all('*', withParams)
  .get('/', () => 'Classic!')
  .get('/items/:id', ({ id, query }) => ({ id, sort: query.sort ?? 'asc' }))
  .post('/items', async (request) => ({ received: await request.json() }))
  .get('/fail', () => {
    throw new Error('classic failure')
  })
  .all('*', () => error(404))

export default {
  fetch: (request, ...args) =>
    router
      .fetch(request, ...args)
      .then(json)
      .catch(error),
}
