import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import {
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { startService, type RunningService } from '@rampart/platform';
import { freePort } from '@rampart/testing';
import { gatewayService } from './gateway.service.js';

/** The gateway in front of one live upstream (a plain HTTP server standing in for audit) and dead ones. */
describe('gateway', () => {
  let gateway: RunningService;
  let upstream: Server;
  let seenHeaders: Record<string, string | string[] | undefined> = {};
  let issuer: TestTokenIssuer;
  /** What the edge asks of a request to an API: an access token for it. */
  const authorised = async (api: string, scope: string) => ({
    authorization: `Bearer ${await issuer.mint({ sub: 'tester', scope, audience: `${issuer.issuer}${api}` })}`,
  });

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      seenHeaders = request.headers;
      if (request.url === '/readyz') {
        response.writeHead(200).end('{}');
        return;
      }
      // Longer than the gateway's upstream timeout below.
      if (request.url === '/audit/v1/slow') {
        setTimeout(() => response.writeHead(200).end('{}'), 1_500);
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () =>
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ path: request.url, method: request.method, body })),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    const upstreamPort = typeof address === 'object' && address ? address.port : 0;
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
        UPSTREAM_AUDIT_URL: `http://127.0.0.1:${upstreamPort}`,
        UPSTREAM_IDENTITY_URL: `http://127.0.0.1:${closedPort}`,
        UPSTREAM_AUTHORIZATION_URL: `http://127.0.0.1:${closedPort}`,
        UPSTREAM_KEY_MANAGEMENT_URL: `http://127.0.0.1:${closedPort}`,
        UPSTREAM_CONSENT_URL: `http://127.0.0.1:${closedPort}`,
        GATEWAY_UPSTREAM_TIMEOUT_MS: '500',
      },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await issuer?.close();
  });

  it('routes a prefix to its service with the path unchanged and a request id', async () => {
    const response = await fetch(`${gateway.url}/audit/v1/events?x=1`, {
      headers: {
        ...(await authorised('/audit', 'audit:read')),
        'x-request-id': 'trace-me-12345',
        'rampart-workload-assertion': 'forged',
        'x-forwarded-for': '198.51.100.66',
        'x-forwarded-proto': 'https',
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      path: '/audit/v1/events?x=1',
      method: 'GET',
      body: '',
    });
    expect(response.headers.get('x-request-id')).toBe('trace-me-12345');
    expect(seenHeaders['x-request-id']).toBe('trace-me-12345');
    expect(seenHeaders['rampart-workload-assertion']).toBeUndefined();
    // The edge states the peer it saw; a caller cannot choose the address services log.
    expect(seenHeaders['x-forwarded-for']).toBe('127.0.0.1');
    expect(seenHeaders['x-forwarded-proto']).toBe('http');
  });

  it('passes a request body through unchanged, byte for byte', async () => {
    // Spacing, key order and a duplicate key survive: the edge checks bodies, it does not re-encode them.
    const json = '{ "b":1,"a" : [ "x", {"b":2} ] ,"a":3 }';
    const response = await fetch(`${gateway.url}/audit/v1/events`, {
      method: 'POST',
      headers: {
        ...(await authorised('/audit', 'audit:read')),
        'content-type': 'application/json',
      },
      body: json,
    });
    expect(await response.json()).toEqual({ path: '/audit/v1/events', method: 'POST', body: json });
  });

  it('answers for an upstream slower than its timeout with problem+json 504', async () => {
    const response = await fetch(`${gateway.url}/audit/v1/slow`, {
      headers: await authorised('/audit', 'audit:read'),
    });
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ code: 'gateway-timeout', status: 504 });
  });

  it('answers for a dead upstream with problem+json 503', async () => {
    const response = await fetch(`${gateway.url}/kms/v1/keys`, {
      headers: await authorised('/kms', 'kms.use'),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { errorId?: string };
    expect(problem).toMatchObject({ code: 'service-unavailable', status: 503 });
    expect(problem.errorId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is not ready while a service is down, and says which', async () => {
    const response = await fetch(`${gateway.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'not-ready',
      checks: { audit: 'up', identity: 'down', 'key-management': 'down' },
    });
  });

  it('refuses bad configuration naming the variable', async () => {
    await expect(
      startService(gatewayService, {
        env: {
          PORT: '0',
          UPSTREAM_AUDIT_URL: 'ftp://x',
          WORKLOAD_KEY_FILE: '/x',
          WORKLOAD_TRUST_DIR: '/x',
        },
      }),
    ).rejects.toThrow(/UPSTREAM_AUDIT_URL/);
  });
});
