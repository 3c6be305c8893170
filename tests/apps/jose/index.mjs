// JSON Web Tokens with jose, written as its README shows (https://github.com/panva/jose):
// HS256 signed and verified with a shared secret, RS256 verified with a PEM public key
// (importSPKI), ES256 with a JWK (importJWK), tokens of an identity provider checked against its
// JWKS URL (createRemoteJWKSet), and an ES256 token signed with a key generated in the run.
import * as jose from 'jose'

const issuer = 'urn:example:issuer'
const audience = 'urn:example:audience'

async function verify(request, env, pathname) {
  const jwt = (request.headers.get('Authorization') ?? '').replace(/^Bearer /, '')
  switch (pathname) {
    case '/hs256':
      return jose.jwtVerify(jwt, new TextEncoder().encode(env.JWT_SECRET), { issuer, audience })
    case '/rs256':
      return jose.jwtVerify(jwt, await jose.importSPKI(env.RS256_PUBLIC_KEY, 'RS256'), {
        issuer,
        audience,
      })
    case '/es256':
      return jose.jwtVerify(jwt, await jose.importJWK(JSON.parse(env.ES256_JWK), 'ES256'), {
        issuer,
        audience,
      })
    case '/jwks':
      return jose.jwtVerify(jwt, jose.createRemoteJWKSet(new URL(env.JWKS_URL)), { issuer, audience })
  }
  return null
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url)
    if (request.method === 'POST' && pathname === '/sign/hs256') {
      const secret = new TextEncoder().encode(env.JWT_SECRET)
      const jwt = await new jose.SignJWT(await request.json())
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime('2h')
        .sign(secret)
      return Response.json({ jwt })
    }
    if (request.method === 'POST' && pathname === '/sign/es256') {
      const { publicKey, privateKey } = await jose.generateKeyPair('ES256')
      const jwt = await new jose.SignJWT(await request.json())
        .setProtectedHeader({ alg: 'ES256', kid: 'run-key' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey)
      return Response.json({ jwt, jwk: await jose.exportJWK(publicKey) })
    }
    if (request.method === 'POST' && pathname === '/encrypt') {
      // a JWE with a shared 256-bit key, decrypted again before answering
      const secret = jose.base64url.decode(env.JWE_KEY)
      const jwe = await new jose.EncryptJWT(await request.json())
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt()
        .setExpirationTime('2h')
        .encrypt(secret)
      const { payload } = await jose.jwtDecrypt(jwe, secret)
      return Response.json({ jwe, payload })
    }
    try {
      const verified = await verify(request, env, pathname)
      if (!verified) return new Response('Not Found', { status: 404 })
      const { payload, protectedHeader } = verified
      return Response.json({ payload, protectedHeader })
    } catch (error) {
      return Response.json({ code: error.code, message: error.message }, { status: 401 })
    }
  },
}
