import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface TestTokenIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** An RFC 9068 access token for `sub` with `scope`, valid for `ttlSeconds` (default 300). */
  mint(claims: {
    sub: string;
    scope?: string;
    audience: string;
    ttlSeconds?: number;
  }): Promise<string>;
  /**
   * Signs with a new key (a new `kid`) from now on; the JWK Set publishes both, as an issuer does
   * during a rotation.
   */
  rotate(): Promise<void>;
  /** How often the JWK Set was fetched: verifiers should cache it. */
  readonly jwksFetches: number;
  /** The service configuration that makes a service trust this issuer. */
  env(audience?: string): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Stands in for identity until it issues access tokens: a real HTTP server publishing an ES256
 * JWK Set, and tokens signed with its private key, so services verify them exactly as they will
 * verify identity's.
 */
export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  let generation = 0;
  let signing = await newSigningKey();
  const published: JWK[] = [signing.publicJwk];
  let jwksFetches = 0;
  async function newSigningKey() {
    generation += 1;
    const kid = `test-issuer-${generation}`;
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return {
      kid,
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    };
  }
  const server = createServer((request, response) => {
    if (request.url === '/jwks') {
      jwksFetches += 1;
      response
        .writeHead(200, { 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: published }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    mint: ({ sub, scope, audience, ttlSeconds = 300 }) =>
      new SignJWT({ ...(scope ? { scope } : {}), client_id: 'test-client' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signing.kid })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .setJti(crypto.randomUUID())
        .sign(signing.privateKey),
    rotate: async () => {
      signing = await newSigningKey();
      published.push(signing.publicJwk);
    },
    get jwksFetches() {
      return jwksFetches;
    },
    env: (audience) => ({
      ACCESS_TOKEN_ISSUER: issuer,
      ACCESS_TOKEN_JWKS_URI: `${issuer}/jwks`,
      ...(audience ? { ACCESS_TOKEN_AUDIENCE: audience } : {}),
    }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
