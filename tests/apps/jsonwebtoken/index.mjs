// JSON Web Tokens with jsonwebtoken, as its README shows them, in a Worker with nodejs_compat:
// the test posts the keys (a secret, or PEMs it made) and the tokens to check.
import jwt from 'jsonwebtoken';

function failure(err) {
  return { ok: false, name: err.name, message: err.message };
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const body = await request.json();
    if (pathname === '/sign') {
      // Synchronous, and with a callback (jws's SignStream, over node:stream).
      const token = jwt.sign(body.payload, body.key, { algorithm: body.alg, ...body.options });
      const viaCallback = await new Promise((resolve, reject) => {
        jwt.sign(body.payload, body.key, { algorithm: body.alg, ...body.options }, (err, made) => (err ? reject(err) : resolve(made)));
      });
      return Response.json({ token, viaCallback });
    }
    if (pathname === '/verify') {
      try {
        return Response.json({ ok: true, payload: jwt.verify(body.token, body.key, { algorithms: [body.alg] }) });
      } catch (err) {
        return Response.json(failure(err));
      }
    }
    if (pathname === '/verify-callback') {
      const answer = await new Promise((resolve) => {
        jwt.verify(body.token, body.key, { algorithms: [body.alg] }, (err, payload) => resolve(err ? failure(err) : { ok: true, payload }));
      });
      return Response.json(answer);
    }
    if (pathname === '/decode') {
      return Response.json(jwt.decode(body.token, { complete: true }));
    }
    return new Response('not found', { status: 404 });
  },
};
