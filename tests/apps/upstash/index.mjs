// @upstash/redis on Workers, as Upstash's Cloudflare docs show it: `Redis.fromEnv(env)` from the
// UPSTASH_REDIS_REST_URL and _TOKEN vars, commands over its REST API, a pipeline, a Lua script.
// The package's Script class has a method named `eval`, which SES's source check took for a
// direct eval: the deploy was refused.
import { Redis } from '@upstash/redis/cloudflare';

export default {
  async fetch(request, env) {
    const redis = Redis.fromEnv(env);
    const url = new URL(request.url);
    try {
      if (url.pathname === '/set') {
        return Response.json({ set: await redis.set('user', { name: 'Ada', visits: 1 }) });
      }
      if (url.pathname === '/get') {
        return Response.json({ user: await redis.get('user'), hits: await redis.incr('hits') });
      }
      if (url.pathname === '/pipeline') {
        const pipeline = redis.pipeline();
        pipeline.hset('profile', { lang: 'en', theme: 'dark' });
        pipeline.hgetall('profile');
        pipeline.del('user');
        return Response.json(await pipeline.exec());
      }
      if (url.pathname === '/script') {
        const echo = redis.createScript('return ARGV[1]');
        return Response.json({ eval: await echo.eval([], ['héllo']) });
      }
    } catch (e) {
      return Response.json({ name: e.name, message: e.message }, { status: 500 });
    }
    return new Response('no route', { status: 404 });
  },
};
