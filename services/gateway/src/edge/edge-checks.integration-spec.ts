import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { SignJWT, generateKeyPair } from 'jose';
import {
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { startService, type RunningService } from '@rampart/platform';
import { rawHttpExchange } from '@rampart/testing';
import { gatewayService } from '../gateway.service.js';

interface Received {
  url: string;
  authorization?: string;
  body: string;
}

/**
 * What the edge refuses before a request reaches a service: API requests without a valid access
 * token for that API (checked against a real issuer's JWK Set), and bodies of the wrong type,
 * size or depth. The upstream records what got through.
 */
describe('gateway edge checks: access tokens and request limits', () => {
  let gateway: RunningService;
  let unconfigured: RunningService;
  let upstream: Server;
  let issuer: TestTokenIssuer;
  let received: Received[] = [];

  const token = (api: string, scope: string | undefined, ttlSeconds?: number) =>
    issuer.mint({ sub: 'alice', scope, audience: `${issuer.issuer}${api}`, ttlSeconds });
  const bearer = async (api: string, scope = 'kms.use') => ({
    authorization: `Bearer ${await token(api, scope)}`,
  });

  async function expectProblem(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status, code });
    expect(problem['errorId']).toBeUndefined();
    return problem;
  }

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({
          url: request.url ?? '',
          authorization: request.headers.authorization,
          body,
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    const upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    issuer = await startTestTokenIssuer();
    const keys = await createTestWorkloadKeys(['gateway']);
    const env = {
      PORT: '0',
      LOG_LEVEL: 'silent',
      WORKLOAD_KEY_FILE: keys.keyFile('gateway'),
      WORKLOAD_TRUST_DIR: keys.trustDir,
      UPSTREAM_IDENTITY_URL: upstreamUrl,
      UPSTREAM_AUTHORIZATION_URL: upstreamUrl,
      UPSTREAM_KEY_MANAGEMENT_URL: upstreamUrl,
      UPSTREAM_CONSENT_URL: upstreamUrl,
      UPSTREAM_AUDIT_URL: upstreamUrl,
    };
    gateway = await startService(gatewayService, { env: { ...env, ...issuer.env() } });
    unconfigured = await startService(gatewayService, { env });
  });

  afterAll(async () => {
    await gateway?.stop();
    await unconfigured?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await issuer?.close();
  });

  describe('access tokens', () => {
    it.each(['/kms/v1/keys', '/authz/stores', '/privacy/v1/consents', '/audit/v1/events'])(
      'refuses %s without a token, with a Bearer challenge, before the service sees it',
      async (path) => {
        received = [];
        const response = await fetch(`${gateway.url}${path}`);
        await expectProblem(response, 401, 'unauthenticated');
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(received).toEqual([]);
      },
    );

    it('passes a valid token for the API on unchanged, for the service to verify again', async () => {
      received = [];
      const headers = await bearer('/kms');
      const response = await fetch(`${gateway.url}/kms/v1/keys?page=2`, { headers });
      expect(response.status).toBe(200);
      expect(received).toEqual([
        { url: '/kms/v1/keys?page=2', authorization: headers.authorization, body: '' },
      ]);
    });

    it('lets the public routes of a protected API through without a token, exactly spelled', async () => {
      received = [];
      for (const path of ['/kms/v1/jwks', '/kms/openapi.json', '/audit/openapi.json'])
        expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
      expect(received.map((request) => request.url)).toEqual([
        '/kms/v1/jwks',
        '/kms/openapi.json',
        '/audit/openapi.json',
      ]);
      for (const variant of ['/kms/v1/jwks/', '/kms/v1/%6Awks', '/kms/v1/jwks/../keys'])
        await expectProblem(await fetch(`${gateway.url}${variant}`), 401, 'unauthenticated');
    });

    it('refuses a token meant for another API', async () => {
      const response = await fetch(`${gateway.url}/kms/v1/keys`, {
        headers: await bearer('/audit', 'audit:read'),
      });
      await expectProblem(response, 401, 'unauthenticated');
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it('refuses a token with none of the API’s scopes (403 insufficient_scope)', async () => {
      const response = await fetch(`${gateway.url}/kms/v1/keys`, {
        headers: await bearer('/kms', 'openid profile'),
      });
      await expectProblem(response, 403, 'forbidden');
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_scope", scope="kms.admin kms.share kms.use"',
      );
    });

    it('refuses an expired token, a forged one and a malformed header', async () => {
      const expired = await token('/kms', 'kms.use', -60);
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({ scope: 'kms.admin' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'test-issuer-1' })
        .setIssuer(issuer.issuer)
        .setSubject('mallory')
        .setAudience(`${issuer.issuer}/kms`)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      for (const authorization of [
        `Bearer ${expired}`,
        `Bearer ${forged}`,
        'Bearer',
        'Basic YTpi',
        `Bearer ${'x'.repeat(5000)}`,
      ]) {
        const response = await fetch(`${gateway.url}/kms/v1/keys`, { headers: { authorization } });
        await expectProblem(response, 401, 'unauthenticated');
      }
    });

    it('caches the key set, and fetches it again for a token signed with a new key', async () => {
      for (let index = 0; index < 5; index += 1)
        await fetch(`${gateway.url}/kms/v1/keys`, { headers: await bearer('/kms') });
      const before = issuer.jwksFetches;
      for (let index = 0; index < 5; index += 1)
        await fetch(`${gateway.url}/audit/v1/events`, {
          headers: await bearer('/audit', 'audit:read'),
        });
      expect(issuer.jwksFetches).toBe(before);
      await issuer.rotate();
      // jose refetches an unknown kid at most every 30 s; the first fetch above is older than
      // that only on a slow machine, so wait out the cooldown rather than depend on timing.
      await new Promise((resolve) => setTimeout(resolve, 30_500));
      const response = await fetch(`${gateway.url}/kms/v1/keys`, { headers: await bearer('/kms') });
      expect(response.status).toBe(200);
      expect(issuer.jwksFetches).toBe(before + 1);
    }, 60_000);

    it('leaves the identity routes to identity', async () => {
      received = [];
      expect((await fetch(`${gateway.url}/oidc/jwks`)).status).toBe(200);
      expect((await fetch(`${gateway.url}/scim/v2/Users`)).status).toBe(200);
      expect(received).toHaveLength(2);
    });

    it('refuses every protected request when it trusts no issuer', async () => {
      const response = await fetch(`${unconfigured.url}/kms/v1/keys`, {
        headers: await bearer('/kms'),
      });
      await expectProblem(response, 401, 'unauthenticated');
      expect((await fetch(`${unconfigured.url}/kms/v1/jwks`)).status).toBe(200);
    });

    it('will not start in production without a trusted issuer', async () => {
      await expect(
        startService(gatewayService, {
          env: {
            RAMPART_MODE: 'production',
            PORT: '0',
            GATEWAY_SECURITY_CONTACT: 'mailto:security@example.org',
            WORKLOAD_KEY_FILE: '/x',
            WORKLOAD_TRUST_DIR: '/x',
          },
        }),
      ).rejects.toThrow(/ACCESS_TOKEN_ISSUER/);
    });
  });

  it('answers a known path asked with another method 405 with Allow, not 404', async () => {
    const response = await fetch(`${gateway.url}/csp-reports`);
    await expectProblem(response, 405, 'method-not-allowed');
    expect(response.headers.get('allow')).toBe('POST');
    await expectProblem(await fetch(`${gateway.url}/no/such/path`), 404, 'not-found');
  });

  describe('request limits', () => {
    const post = async (path: string, body: string, contentType?: string, api = '/kms') =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: {
          ...(path.startsWith(api) ? await bearer(api) : {}),
          ...(contentType ? { 'content-type': contentType } : {}),
        },
        body,
      });

    it.each([
      ['/kms/v1/keys', 'text/plain'],
      ['/kms/v1/keys', 'application/x-www-form-urlencoded'],
      ['/interaction/abc/login', 'application/json'],
      ['/oidc/token', 'multipart/form-data; boundary=x'],
      ['/kms/v1/keys', undefined],
    ])('answers 415 for a %s body of type %s', async (path, type) => {
      received = [];
      await expectProblem(await post(path, '{"a":1}', type), 415, 'unsupported-media-type');
      expect(received).toEqual([]);
    });

    it('accepts each prefix’s own types, parameters and case aside', async () => {
      received = [];
      expect((await post('/kms/v1/keys', '{}', 'Application/JSON; charset=utf-8')).status).toBe(
        200,
      );
      expect((await post('/scim/v2/Users', '{}', 'application/scim+json')).status).toBe(200);
      expect(
        (await post('/oidc/token', 'grant_type=x', 'application/x-www-form-urlencoded')).status,
      ).toBe(200);
      expect(received.map((request) => request.body)).toEqual(['{}', '{}', 'grant_type=x']);
    });

    it('answers 413 for a body over the prefix’s limit, declared or chunked', async () => {
      received = [];
      const form = `password=${'a'.repeat(17 * 1024)}`;
      await expectProblem(
        await post('/interaction/abc/login', form, 'application/x-www-form-urlencoded'),
        413,
        'payload-too-large',
      );
      const chunked = rawHttpExchange(
        Number(new URL(gateway.url).port),
        'POST /interaction/abc/login HTTP/1.1\r\nHost: x\r\n' +
          'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n' +
          `4000\r\n${'a'.repeat(0x4000)}\r\n4000\r\n${'b'.repeat(0x4000)}\r\n0\r\n\r\n`,
      );
      expect(await chunked).toMatch(/^HTTP\/1\.1 413 /);
      await expectProblem(
        await fetch(`${gateway.url}/.well-known/openid-configuration`, {
          method: 'POST',
          body: 'x',
        }),
        413,
        'payload-too-large',
      );
      expect(received).toEqual([]);
    });

    it('answers 400, not 500, for a body whose chunked framing breaks half-way', async () => {
      received = [];
      const answer = await rawHttpExchange(
        Number(new URL(gateway.url).port),
        'POST /interaction/abc/login HTTP/1.1\r\nHost: x\r\n' +
          'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n' +
          '4\r\na=bc\r\nzz\r\nnot a chunk\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('application/problem+json');
      expect(answer).not.toContain('errorId');
      expect(received).toEqual([]);
    });

    it('answers 400 for JSON nested deeper than the limit, and passes the limit itself', async () => {
      received = [];
      const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
      const problem = await expectProblem(
        await post('/kms/v1/keys', nested(33), 'application/json'),
        400,
        'bad-request',
      );
      expect(problem['detail']).toContain('32');
      expect(received).toEqual([]);
      expect((await post('/kms/v1/keys', nested(32), 'application/json')).status).toBe(200);
      expect(received.map((request) => request.body)).toEqual([nested(32)]);
    });

    it('lets a GET with a body through without it, as before (the proxy sends no GET body)', async () => {
      const raw = await rawHttpExchange(
        Number(new URL(gateway.url).port),
        `GET /kms/v1/keys/x:encrypt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${await token('/kms', 'kms.use')}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
        { headersOnly: true },
      );
      expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    });

    it('checks the token before reading a body', async () => {
      const response = await fetch(`${gateway.url}/kms/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(2 * 1024 * 1024),
      });
      await expectProblem(response, 401, 'unauthenticated');
    });
  });
});
