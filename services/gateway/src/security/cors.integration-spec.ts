import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import {
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { startService, type RunningService } from '@rampart/platform';
import { freePort } from '@rampart/testing';
import { gatewayService } from '../gateway.service.js';

/** A request with any headers (fetch forbids setting Origin and preflight headers). */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

/** CORS through the real gateway, against an upstream that tries to open itself to everyone. */
describe('gateway CORS allowlist', () => {
  let gateway: RunningService;
  let issuer: TestTokenIssuer;
  let upstream: Server;
  let upstreamSawPreflight = false;

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      if (request.method === 'OPTIONS') upstreamSawPreflight = true;
      response
        .writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
        })
        .end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    const upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const closedPort = await freePort();
    const keys = await createTestWorkloadKeys(['gateway']);
    issuer = await startTestTokenIssuer();
    gateway = await startService(gatewayService, {
      env: {
        ...issuer.env(),
        PORT: '0',
        LOG_LEVEL: 'silent',
        WORKLOAD_KEY_FILE: keys.keyFile('gateway'),
        WORKLOAD_TRUST_DIR: keys.trustDir,
        UPSTREAM_AUDIT_URL: upstreamUrl,
        UPSTREAM_KEY_MANAGEMENT_URL: upstreamUrl,
        UPSTREAM_IDENTITY_URL: `http://127.0.0.1:${closedPort}`,
        UPSTREAM_AUTHORIZATION_URL: `http://127.0.0.1:${closedPort}`,
        UPSTREAM_CONSENT_URL: `http://127.0.0.1:${closedPort}`,
        GATEWAY_CORS_ALLOWLIST:
          '/audit/v1=https://siem.example https://ops.example;/audit/v1/export=https://archive.example',
      },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await issuer?.close();
  });

  it('answers an allowlisted origin by name, with credentials, never the upstream’s wildcard', async () => {
    const token = await issuer.mint({
      sub: 'siem',
      scope: 'audit:read',
      audience: `${issuer.issuer}/audit`,
    });
    const answer = await send(`${gateway.url}/audit/v1/events`, 'GET', {
      origin: 'https://siem.example',
      authorization: `Bearer ${token}`,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('https://siem.example');
    expect(answer.headers['access-control-allow-credentials']).toBe('true');
    expect(answer.headers['access-control-expose-headers']).toContain('x-request-id');
    // A cross-origin script can pace itself by the gateway's rate limits.
    expect(answer.headers['access-control-expose-headers']).toContain('ratelimit-policy');
    expect(String(answer.headers['vary'])).toMatch(/origin/i);
  });

  it.each([
    ['another site', '/audit/v1/events', 'https://evil.example'],
    ['a look-alike origin', '/audit/v1/events', 'https://siem.example.evil.example'],
    ['the literal null origin', '/audit/v1/events', 'null'],
    ['a path outside every prefix', '/kms/v1/keys', 'https://siem.example'],
    ['a prefix that only looks like one', '/audit/v1x/events', 'https://siem.example'],
    // The longest prefix decides: the export has its own, narrower list.
    [
      'an origin of the shorter prefix on the longer one',
      '/audit/v1/export',
      'https://siem.example',
    ],
  ])('gives %s no CORS headers at all', async (_case, path, origin) => {
    const answer = await send(`${gateway.url}${path}`, 'GET', { origin });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('answers an allowed preflight itself, without asking the service', async () => {
    upstreamSawPreflight = false;
    const answer = await send(`${gateway.url}/audit/v1/export`, 'OPTIONS', {
      origin: 'https://archive.example',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization, x-request-id',
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe('https://archive.example');
    expect(answer.headers['access-control-allow-methods']).toContain('GET');
    expect(answer.headers['access-control-allow-headers']).toContain('authorization');
    expect(answer.headers['access-control-max-age']).toBe('600');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(upstreamSawPreflight).toBe(false);
  });

  it.each([
    ['an origin not on the list', 'https://evil.example', 'GET', 'authorization'],
    ['a method not allowed', 'https://siem.example', 'TRACE', ''],
    ['a header not allowed', 'https://siem.example', 'POST', 'x-internal-secret'],
  ])(
    'refuses a preflight from %s with problem+json 403',
    async (_case, origin, method, headers) => {
      const answer = await send(`${gateway.url}/audit/v1/events`, 'OPTIONS', {
        origin,
        'access-control-request-method': method,
        ...(headers ? { 'access-control-request-headers': headers } : {}),
      });
      expect(answer.status).toBe(403);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(answer.body)).toMatchObject({ status: 403 });
    },
  );

  it('refuses to start with a wildcard in the allowlist', async () => {
    const keys = await createTestWorkloadKeys(['gateway']);
    await expect(
      startService(gatewayService, {
        env: {
          PORT: '0',
          LOG_LEVEL: 'silent',
          WORKLOAD_KEY_FILE: keys.keyFile('gateway'),
          WORKLOAD_TRUST_DIR: keys.trustDir,
          GATEWAY_CORS_ALLOWLIST: '/audit=*',
        },
      }),
    ).rejects.toThrow(/GATEWAY_CORS_ALLOWLIST/);
  });
});
