// Sentry's own SDK for Workers, @sentry/cloudflare, as its docs show it: the handler wrapped in
// withSentry, options from env. Each request has its own isolation scope (Sentry keeps it in
// AsyncLocalStorage, node:async_hooks), so a tag one request sets is not on another's event.
import * as Sentry from '@sentry/cloudflare';

export default Sentry.withSentry(
  (env) => ({ dsn: env.SENTRY_DSN, release: '1.0.0', environment: 'test', tracesSampleRate: 0 }),
  {
    async fetch(request, env) {
      const { pathname } = new URL(request.url);
      if (pathname === '/message') {
        Sentry.setTag('feature', 'greeting');
        Sentry.captureMessage('hello from the sdk');
        return new Response('reported');
      }
      if (pathname === '/boom') {
        Sentry.setUser({ id: 'user-8' });
        // A fetch before the throw: Sentry's fetch integration records it as a breadcrumb.
        await fetch(new URL('/before-the-throw', new URL(env.SENTRY_DSN).origin));
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error('the sdk saw it');
      }
      return new Response('fine');
    },
  },
);
