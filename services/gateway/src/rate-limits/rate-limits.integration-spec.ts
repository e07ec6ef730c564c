import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import pg from 'pg';
import { SERVICE_ROUTES } from '@rampart/contracts';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  type TestDatabase,
} from '@rampart/platform/testing-support';
import { createLogger, startService, type RunningService } from '@rampart/platform';
import { upstreamVariable } from '../config/gateway.config.js';
import { gatewayService } from '../gateway.service.js';
import { PostgresRateLimitStore } from './postgres-store.js';
import { credentialDigest } from './rate-limit-policies.js';

/** Every service is this stub: what is measured is the gateway in front of it. */
function startUpstream(): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}`, hits: () => hits });
    }),
  );
}

/** A caller at `client`, as the trusted proxy in front of the gateway reports it. */
function from(client: string, headers: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': client, ...headers };
}

const post = (base: string, path: string, headers: Record<string, string>) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: 'x=1',
  });

/**
 * Rate limits through the real gateway: one with the in-memory store, and two replicas sharing
 * the PostgreSQL store on a real database. 127.0.0.1 is a trusted proxy here, so
 * `X-Forwarded-For` stands for distinct clients.
 */
describe('gateway rate limits', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let memoryGateway: RunningService;
  let untrustingGateway: RunningService;
  let replicaA: RunningService;
  let replicaB: RunningService;
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    upstream = await startUpstream();
    const keys = await createTestWorkloadKeys(['gateway']);
    env = {
      PORT: '0',
      LOG_LEVEL: 'silent',
      WORKLOAD_KEY_FILE: keys.keyFile('gateway'),
      WORKLOAD_TRUST_DIR: keys.trustDir,
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
      GATEWAY_RATE_LIMIT_DEFAULT: '20/1m',
      GATEWAY_RATE_LIMIT_SIGN_IN: '3/1m',
      GATEWAY_RATE_LIMIT_TOKEN: '4/1m',
      ...Object.fromEntries(
        SERVICE_ROUTES.map((route) => [upstreamVariable(route.service), upstream.url]),
      ),
    };
    memoryGateway = await startService(gatewayService, { env });
    untrustingGateway = await startService(gatewayService, {
      env: { ...env, GATEWAY_TRUSTED_PROXIES: '' },
    });
    database = await createTestDatabase('gateway');
    const shared = {
      ...env,
      GATEWAY_RATE_LIMIT_STORE: 'postgres',
      GATEWAY_RATE_LIMIT_DATABASE_URL: database.url,
      GATEWAY_RATE_LIMIT_DATABASE_SCHEMA: 'gateway',
      // Generous on a busy test machine: falling back to memory would hide the shared count.
      GATEWAY_RATE_LIMIT_DATABASE_TIMEOUT_MS: '5000',
    };
    replicaA = await startService(gatewayService, { env: shared });
    replicaB = await startService(gatewayService, { env: shared });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      [memoryGateway, untrustingGateway, replicaA, replicaB].map((gateway) => gateway?.stop()),
    );
    await database?.drop();
    await new Promise((resolve) => upstream?.server.close(resolve));
  });

  it('refuses the fourth sign-in attempt a minute with 429 problem+json and Retry-After', async () => {
    const client = from('198.51.100.1');
    const granted = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await post(memoryGateway.url, '/interaction/abc/login', client);
      expect(response.status).toBe(200);
      granted.push(response.headers.get('ratelimit'));
    }
    expect(granted).toEqual([
      expect.stringContaining('"sign-in";r=2;'),
      expect.stringContaining('"sign-in";r=1;'),
      expect.stringContaining('"sign-in";r=0;'),
    ]);
    const hitsBefore = upstream.hits();
    const refused = await post(memoryGateway.url, '/interaction/abc/login', client);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // Three a minute: one attempt comes back every 20 s.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    expect(refused.headers.get('ratelimit-policy')).toBe('"default";q=20;w=60, "sign-in";q=3;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(
      /^"default";r=\d+;t=\d+, "sign-in";r=0;t=\d+$/,
    );
    // The edge's own headers cover the refusal too.
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    const problem = (await refused.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({
      status: 429,
      code: 'too-many-requests',
      title: 'Too many requests',
      instance: '/interaction/abc/login',
    });
    expect(String(problem['type'])).toContain('too-many-requests');
    // Refused at the edge: the service never saw it.
    expect(upstream.hits()).toBe(hitsBefore);
    // Other pages stay open to the same client; only the sign-in quota is spent.
    expect((await fetch(`${memoryGateway.url}/interaction/abc`, { headers: client })).status).toBe(
      200,
    );
  });

  it('counts each client address on its own', async () => {
    for (let attempt = 0; attempt < 3; attempt++)
      await post(memoryGateway.url, '/interaction/abc/login', from('198.51.100.2'));
    expect(
      (await post(memoryGateway.url, '/interaction/abc/login', from('198.51.100.2'))).status,
    ).toBe(429);
    expect(
      (await post(memoryGateway.url, '/interaction/abc/login', from('198.51.100.3'))).status,
    ).toBe(200);
  });

  it('applies the default quota to everything, per address', async () => {
    const client = from('198.51.100.4');
    const statuses = [];
    for (let request = 0; request < 21; request++)
      statuses.push(
        (await fetch(`${memoryGateway.url}/account/v1/anything`, { headers: client })).status,
      );
    expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect(
      (await fetch(`${memoryGateway.url}/account/v1/anything`, { headers: from('198.51.100.5') }))
        .status,
    ).toBe(200);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    // Without trust, every claimed address is the one peer 127.0.0.1: the lie buys nothing.
    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt++)
      statuses.push(
        (await post(untrustingGateway.url, '/interaction/abc/login', from(`203.0.113.${attempt}`)))
          .status,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('limits the token endpoint per client credential across addresses', async () => {
    const basic = `Basic ${Buffer.from('client-1:s3cret').toString('base64')}`;
    const statuses = [];
    for (let attempt = 0; attempt < 5; attempt++)
      statuses.push(
        (
          await post(
            memoryGateway.url,
            '/oidc/token',
            from(`192.0.2.${attempt + 10}`, { authorization: basic }),
          )
        ).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    // Another client from one of those addresses still has its own quota.
    const other = `Basic ${Buffer.from('client-2:other').toString('base64')}`;
    expect(
      (await post(memoryGateway.url, '/oidc/token', from('192.0.2.10', { authorization: other })))
        .status,
    ).toBe(200);
  });

  it('shares one count between two replicas on the same database', async () => {
    const client = from('198.51.100.20');
    const statuses = [
      (await post(replicaA.url, '/interaction/abc/login', client)).status,
      (await post(replicaB.url, '/interaction/abc/login', client)).status,
      (await post(replicaA.url, '/interaction/abc/login', client)).status,
      (await post(replicaB.url, '/interaction/abc/login', client)).status,
      (await post(replicaA.url, '/interaction/abc/login', client)).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await post(replicaB.url, '/interaction/abc/login', client);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('spends exactly the quota under concurrent hits on both replicas', async () => {
    const client = from('198.51.100.21');
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        post(index % 2 ? replicaA.url : replicaB.url, '/interaction/abc/login', client),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(9);
  });

  it('stores credentials only as digests', async () => {
    const basic = `Basic ${Buffer.from('client-9:very-secret').toString('base64')}`;
    await post(replicaA.url, '/oidc/token', from('192.0.2.99', { authorization: basic }));
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ key: string }>(
        'SELECT key FROM gateway.gateway_rate_limits',
      );
      const keys = rows.map((row) => row.key);
      expect(keys).toContain(`token-client:${credentialDigest(basic)}`);
      expect(keys).toContain('sign-in:198.51.100.20');
      expect(keys.join('\n')).not.toContain('very-secret');
      expect(keys.join('\n')).not.toContain(basic.slice(6));
    } finally {
      await admin.end();
    }
  });

  it('sweeps rows whose quota has fully recovered', async () => {
    const store = await PostgresRateLimitStore.open(
      { url: database.url, schema: 'gateway', fallbackMaxKeys: 1_000 },
      createLogger('gateway', 'silent'),
    );
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    try {
      const second = { name: 'second', limit: 2, windowSeconds: 1 };
      expect(await store.consume('sweep:a', 1, second)).toMatchObject({
        allowed: true,
        remaining: 1,
      });
      expect(await store.consume('sweep:a', 1, second)).toMatchObject({
        allowed: true,
        remaining: 0,
      });
      expect(await store.consume('sweep:a', 1, second)).toMatchObject({
        allowed: false,
        retryAfterSeconds: 1,
      });
      const hour = { name: 'hour', limit: 1, windowSeconds: 3600 };
      await store.consume('sweep:b', 1, hour);
      const keys = async () =>
        (
          await admin.query<{ key: string }>(
            `SELECT key FROM gateway.gateway_rate_limits WHERE key LIKE 'sweep:%' ORDER BY key`,
          )
        ).rows.map((row) => row.key);
      await store.sweep();
      expect(await keys()).toEqual(['sweep:a', 'sweep:b']);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await store.sweep();
      expect(await keys()).toEqual(['sweep:b']);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it('falls back to per-replica limits, not to none, when the database fails', async () => {
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    try {
      await admin.query(
        'ALTER TABLE gateway.gateway_rate_limits RENAME TO gateway_rate_limits_away',
      );
      const client = from('198.51.100.30');
      const statuses = [];
      for (let attempt = 0; attempt < 4; attempt++)
        statuses.push((await post(replicaA.url, '/interaction/abc/login', client)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await admin.query(
        'ALTER TABLE gateway.gateway_rate_limits_away RENAME TO gateway_rate_limits',
      );
      await admin.end();
    }
    // The database never counted them: the replica's own memory did.
    const check = new pg.Client({ connectionString: database.adminUrl });
    await check.connect();
    try {
      const { rowCount } = await check.query(
        `SELECT 1 FROM gateway.gateway_rate_limits WHERE key = 'sign-in:198.51.100.30'`,
      );
      expect(rowCount).toBe(0);
    } finally {
      await check.end();
    }
  });
});
