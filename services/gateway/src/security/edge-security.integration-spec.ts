import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { CSP_NONCE_HEADER } from '@rampart/contracts';
import {
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { createLogger, startService, type RunningService } from '@rampart/platform';
import { freePort, rawHttpExchange } from '@rampart/testing';
import { gatewayService } from '../gateway.service.js';

const STRICT_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'reporting-endpoints': 'csp="/csp-reports"',
};

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(STRICT_HEADERS))
    expect([name, response.headers.get(name)]).toEqual([name, value]);
  expect(response.headers.get('permissions-policy')).toContain('camera=()');
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(response.headers.get('content-security-policy')).toContain("object-src 'none'");
  expect(response.headers.get('content-security-policy')).toContain("base-uri 'none'");
  expect(response.headers.get('server')).toBeNull();
  expect(response.headers.get('x-powered-by')).toBeNull();
}

/**
 * The gateway's own security layer against a hostile upstream that tries to weaken every header,
 * a page-rendering one that echoes the nonce it was handed, and raw malformed HTTP.
 */
describe('gateway security headers, CSP and reports', () => {
  let gateway: RunningService;
  let trustingGateway: RunningService;
  let upstream: Server;
  let seen: Record<string, string | string[] | undefined> = {};
  const logLines: string[] = [];
  let issuer: TestTokenIssuer;
  /** A request with an access token for the API its path names: what the edge asks for. */
  const fetchApi = async (url: string, init: RequestInit = {}) => {
    const api = `/${new URL(url).pathname.split('/')[1]}`;
    const scope = { '/audit': 'audit:read', '/authz': 'authz.read', '/kms': 'kms.use' }[api];
    const token = await issuer.mint({ sub: 'tester', scope, audience: `${issuer.issuer}${api}` });
    return fetch(url, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
  };

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      seen = request.headers;
      const nonce = String(request.headers[CSP_NONCE_HEADER] ?? '');
      const weak = {
        server: 'nginx/1.0',
        'x-powered-by': 'Express',
        'content-security-policy': "default-src *; script-src 'unsafe-inline'",
        'x-frame-options': 'ALLOWALL',
        'referrer-policy': 'unsafe-url',
        'strict-transport-security': 'max-age=0',
        'cache-control': 'public, max-age=9999',
      };
      if (request.url?.startsWith('/audit/v1/page')) {
        response
          .writeHead(200, {
            ...weak,
            'content-type': 'text/html; charset=utf-8',
            // A page's own policy: only its form-action origins survive, and only concrete ones.
            'content-security-policy': `default-src *; form-action 'self' https://client.example * 'unsafe-inline' https: data:`,
          })
          .end(`<script nonce="${nonce}" src="/x.js"></script>`);
        return;
      }
      if (request.url === '/audit/v1/redirect') {
        response.writeHead(302, { ...weak, location: '/elsewhere' }).end();
        return;
      }
      if (request.url === '/audit/v1/missing') {
        response.writeHead(404, { ...weak, 'content-type': 'application/json' }).end('{}');
        return;
      }
      if (request.url === '/audit/v1/broken') {
        response.writeHead(500, { ...weak, 'content-type': 'application/json' }).end('{}');
        return;
      }
      if (request.url === '/kms/v1/jwks') {
        response.writeHead(200, { ...weak, 'content-type': 'application/json' }).end('{"keys":[]}');
        return;
      }
      response.writeHead(200, { ...weak, 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    const upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const closedPort = await freePort();
    const keys = await createTestWorkloadKeys(['gateway']);
    issuer = await startTestTokenIssuer();
    const env = {
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
      GATEWAY_SECURITY_CONTACT: 'mailto:security@example.org',
      GATEWAY_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z',
      GATEWAY_SECURITY_POLICY_URL: 'https://example.org/SECURITY.md',
      GATEWAY_PUBLIC_URL: 'https://id.example.org',
    };
    gateway = await startService(gatewayService, {
      env,
      logger: createLogger('gateway', 'info', { write: (line: string) => logLines.push(line) }),
    });
    trustingGateway = await startService(gatewayService, {
      env: { ...env, GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await trustingGateway?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await issuer?.close();
  });

  it.each([
    ['/audit/v1/events', 200],
    ['/audit/v1/redirect', 302],
    ['/audit/v1/missing', 404],
    ['/audit/v1/broken', 500],
  ])('replaces a weakening upstream’s headers on %s (%i)', async (path, status) => {
    const response = await fetchApi(`${gateway.url}${path}`, { redirect: 'manual' });
    expect(response.status).toBe(status);
    expectSecurityHeaders(response);
    expect(response.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; form-action 'none'/,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    // Plain HTTP from an untrusted peer: no HSTS, and the upstream's own is not passed on.
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it.each([
    ['the gateway’s own 404', '/nowhere'],
    ['health', '/healthz'],
    ['an upstream that is down (503)', '/authz/v1/anything'],
    ['security.txt', '/.well-known/security.txt'],
  ])('sets them on %s', async (_kind, path) => {
    const response = await fetchApi(`${gateway.url}${path}`);
    expectSecurityHeaders(response);
  });

  it('keeps a public key set cacheable, and nothing else', async () => {
    const jwks = await fetch(`${gateway.url}/kms/v1/jwks`);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=9999');
    expectSecurityHeaders(jwks);
  });

  it('gives a page a nonce policy that matches the nonce handed to the service, new each time', async () => {
    const first = await fetchApi(`${gateway.url}/audit/v1/page`, {
      headers: { [CSP_NONCE_HEADER]: 'AAAAAAAAAAAAAAAAAAAAAA==' },
    });
    const policy = first.headers.get('content-security-policy')!;
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
    // The caller's value is replaced by the gateway's own.
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(nonce).not.toBe('AAAAAAAAAAAAAAAAAAAAAA==');
    expect(await first.text()).toContain(`nonce="${nonce}"`);
    expect(policy).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'self'; img-src 'self'; ` +
        `form-action 'self' https://client.example; frame-ancestors 'none'; object-src 'none'; ` +
        `base-uri 'none'; report-to csp; report-uri /csp-reports`,
    );
    expectSecurityHeaders(first);
    const second = await fetchApi(`${gateway.url}/audit/v1/page`);
    expect(second.headers.get('content-security-policy')).not.toContain(nonce);
  });

  it('forwards a valid traceparent and starts one when there is none or it is malformed', async () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await fetchApi(`${gateway.url}/audit/v1/events`, { headers: { traceparent: parent } });
    expect(seen['traceparent']).toBe(parent);
    await fetchApi(`${gateway.url}/audit/v1/events`, { headers: { traceparent: 'garbage' } });
    expect(seen['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(seen['traceparent']).not.toBe('garbage');
  });

  it('sends HSTS and https to services only when a trusted proxy says the caller used TLS', async () => {
    const claimed = { 'x-forwarded-proto': 'https' };
    const untrusted = await fetchApi(`${gateway.url}/audit/v1/events`, { headers: claimed });
    expect(untrusted.headers.get('strict-transport-security')).toBeNull();
    expect(seen['x-forwarded-proto']).toBe('http');
    const trusted = await fetchApi(`${trustingGateway.url}/audit/v1/events`, { headers: claimed });
    expect(trusted.headers.get('strict-transport-security')).toBe(
      'max-age=63072000; includeSubDomains',
    );
    expect(seen['x-forwarded-proto']).toBe('https');
    const plain = await fetchApi(`${trustingGateway.url}/audit/v1/events`);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });

  describe('POST /csp-reports', () => {
    const report = (contentType: string, body: string) =>
      fetch(`${gateway.url}/csp-reports`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });

    it('accepts a CSP level 2 report and a Reporting API batch with 204', async () => {
      const legacy = await report(
        'application/csp-report',
        JSON.stringify({
          'csp-report': {
            'document-uri': 'https://id.example.org/account?code=secret',
            'violated-directive': 'script-src-elem',
            'blocked-uri': 'https://evil.example/x.js?token=1',
          },
        }),
      );
      expect(legacy.status).toBe(204);
      expectSecurityHeaders(legacy);
      const batch = await report(
        'application/reports+json',
        JSON.stringify([
          {
            type: 'csp-violation',
            url: 'https://id.example.org/account',
            body: {
              documentURL: 'https://id.example.org/account',
              effectiveDirective: 'img-src',
              blockedURL: 'inline',
            },
          },
        ]),
      );
      expect(batch.status).toBe(204);
      const logged = logLines
        .map((line) => JSON.parse(line) as { cspViolation?: Record<string, string> })
        .flatMap((line) => (line.cspViolation ? [line.cspViolation] : []));
      // Origins and paths only: no query, no token, no full URL.
      expect(logged).toEqual([
        {
          directive: 'script-src-elem',
          blocked: 'https://evil.example',
          document: '/account',
          disposition: 'enforce',
        },
        { directive: 'img-src', blocked: 'inline', document: '/account', disposition: 'enforce' },
      ]);
      expect(logLines.join('\n')).not.toMatch(/secret|token=1/);
    });

    it('refuses malformed JSON (400), a non-report (400), too large (413), other types (415)', async () => {
      const problems: [Response, number][] = [
        [await report('application/csp-report', '{"csp-report": '), 400],
        [await report('application/csp-report', '{"other": 1}'), 400],
        [await report('application/reports+json', 'x'.repeat(17 * 1024)), 413],
        [await report('application/json', '{}'), 415],
        [await report('text/plain', 'hello'), 415],
      ];
      for (const [response, status] of problems) {
        expect(response.status).toBe(status);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const problem = (await response.json()) as { status: number; detail?: string };
        expect(problem.status).toBe(status);
        expect(JSON.stringify(problem)).not.toMatch(/FST_|stack|node_modules/);
        expectSecurityHeaders(response);
      }
    });
  });

  it('serves security.txt (RFC 9116) as text/plain from the gateway, not identity', async () => {
    const response = await fetch(`${gateway.url}/.well-known/security.txt`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe(
      [
        'Contact: mailto:security@example.org',
        'Expires: 2027-06-30T00:00:00.000Z',
        'Policy: https://example.org/SECURITY.md',
        'Preferred-Languages: en',
        'Canonical: https://id.example.org/.well-known/security.txt',
        '',
      ].join('\n'),
    );
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
  });

  it('refuses an expiry more than a year ahead, naming the variable', async () => {
    const keys = await createTestWorkloadKeys(['gateway']);
    await expect(
      startService(gatewayService, {
        env: {
          PORT: '0',
          WORKLOAD_KEY_FILE: keys.keyFile('gateway'),
          WORKLOAD_TRUST_DIR: keys.trustDir,
          GATEWAY_SECURITY_TXT_EXPIRES: new Date(Date.now() + 400 * 86_400_000).toISOString(),
        },
      }),
    ).rejects.toThrow(/GATEWAY_SECURITY_TXT_EXPIRES/);
  });

  it.each([
    ['a bad method', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['invalid header characters', 'GET / HTTP/1.1\r\nHost: x\r\nX-Bad\u0001: y\r\n\r\n', 400],
    ['a huge header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('answers %s with problem+json %i and keeps serving', async (_kind, bytes, status) => {
    const port = new URL(gateway.url).port;
    const answer = await rawHttpExchange(Number(port), bytes);
    expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(answer).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/);
    expect(answer).toMatch(/\r\nx-content-type-options: nosniff\r\n/);
    expect(answer).toContain(`"status":${status}`);
    expect(answer).not.toMatch(/HPE_|Parse Error/);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });
});
