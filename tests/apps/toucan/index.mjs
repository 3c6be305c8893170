// Sentry error reporting with toucan-js, written as its README shows
// (https://github.com/robertcepa/toucan-js): the client made per request with the request and
// the context, whose waitUntil keeps the report's fetch going after the response.
import { Toucan } from 'toucan-js'

export default {
  async fetch(request, env, context) {
    const sentry = new Toucan({
      dsn: env.SENTRY_DSN,
      context,
      request,
      release: '1.0.0',
      environment: 'test',
    })
    const { pathname } = new URL(request.url)
    try {
      if (pathname === '/message') {
        sentry.setTag('feature', 'greeting')
        sentry.captureMessage('hello from the worker')
        return new Response('reported')
      }
      if (pathname === '/boom') {
        sentry.setUser({ id: 'user-7' })
        sentry.addBreadcrumb({ message: 'about to fail', category: 'test' })
        throw new Error('the worker failed')
      }
      return new Response('fine')
    } catch (error) {
      sentry.captureException(error)
      return new Response('Something went wrong', { status: 500 })
    }
  },
}
