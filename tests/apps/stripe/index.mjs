// Stripe's SDK on Workers, as Stripe's docs show it: the fetch HTTP client, a webhook's
// signature checked with the SubtleCrypto provider (constructEventAsync), and API calls,
// auto-pagination and an API error; the API is the one at STRIPE_HOST.
import Stripe from 'stripe';

export default {
  async fetch(request, env) {
    const stripe = new Stripe(env.STRIPE_SECRET_KEY, {
      httpClient: Stripe.createFetchHttpClient(),
      host: '127.0.0.1',
      port: env.STRIPE_PORT,
      protocol: 'http',
    });
    const url = new URL(request.url);
    try {
      if (url.pathname === '/webhook') {
        const event = await stripe.webhooks.constructEventAsync(
          await request.text(),
          request.headers.get('stripe-signature'),
          env.STRIPE_WEBHOOK_SECRET,
          undefined,
          Stripe.createSubtleCryptoProvider()
        );
        return Response.json({ received: event.type, id: event.data.object.id });
      }
      if (url.pathname === '/customers') {
        const customer = await stripe.customers.create({ email: 'ada@example.com', metadata: { plan: 'pro' } });
        const listed = [];
        for await (const each of stripe.customers.list({ limit: 2 })) listed.push(each.id);
        let missing = null;
        try {
          await stripe.customers.retrieve('cus_missing');
        } catch (e) {
          missing = { type: e.type, code: e.code, status: e.statusCode, message: e.message };
        }
        return Response.json({ customer, listed, missing });
      }
    } catch (e) {
      return Response.json({ type: e.type, message: e.message }, { status: 400 });
    }
    return new Response('no route', { status: 404 });
  },
};
