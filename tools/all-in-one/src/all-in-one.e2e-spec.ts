import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { RESOURCE_APIS, SERVICE_ROUTES } from '@rampart/contracts';
import { loadWorkloadSigner, WORKLOAD_ASSERTION_HEADER } from '@rampart/platform';
import { createTestWorkloadKeys } from '@rampart/platform/testing-support';
import { freePort } from '@rampart/testing';
import { startAllInOne, type AllInOne } from './all-in-one.js';

describe('all-in-one platform', () => {
  let platform: AllInOne;
  let home: string;
  let gatewayPort: number;
  const env = () => ({
    RAMPART_HOME: home,
    RAMPART_PORT: String(gatewayPort),
    RAMPART_POSTGRES_PORT: process.env['E2E_POSTGRES_PORT'],
    LOG_LEVEL: 'silent',
  });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'rampart-home-'));
    gatewayPort = 20_000 + randomInt(0, 400) * 10;
    process.env['E2E_POSTGRES_PORT'] = String(await freePort());
    platform = await startAllInOne(env());
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const gateway = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${gatewayPort}${path}`, init);

  it('is ready through the gateway, listing every service', async () => {
    const response = await gateway('/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: Object.fromEntries(SERVICE_ROUTES.map((route) => [route.service, 'up'])),
    });
  });

  it.each(SERVICE_ROUTES.map((route) => [route.service, route.openApiPath]))(
    'serves the OpenAPI 3.1 document of %s at %s through the gateway',
    async (_service, path) => {
      const response = await gateway(path);
      expect(response.status).toBe(200);
      const document = (await response.json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(document.openapi).toBe('3.1.0');
      expect(Object.keys(document.paths)).toContain(path);
    },
  );

  it('keeps the production rate limits unless told otherwise', async () => {
    const response = await gateway('/readyz');
    expect(response.headers.get('ratelimit-policy')).toBe('"default";q=600;w=60');
  });

  it('lets through without a token exactly the routes each protected API documents as public', async () => {
    // The edge's list of public paths (RESOURCE_APIS) against the services' own OpenAPI documents:
    // a public route added to a service must be added there too, or the edge would refuse it.
    for (const api of RESOURCE_APIS.filter((candidate) => candidate.edge)) {
      const response = await gateway(`${api.path}/openapi.json`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as {
        paths: Record<string, Record<string, { security?: unknown[] }>>;
      };
      const documentedPublic = Object.entries(document.paths)
        .filter(([, operations]) =>
          Object.values(operations).some((operation) => operation.security?.length === 0),
        )
        .map(([path]) => path);
      expect([
        api.path,
        [...new Set([...documentedPublic, `${api.path}/openapi.json`])].sort(),
      ]).toEqual([
        api.path,
        [...new Set([...api.edge!.publicPaths, `${api.path}/openapi.json`])].sort(),
      ]);
      for (const path of documentedPublic) expect((await gateway(path)).status).not.toBe(401);
    }
  });

  it('answers a service’s known path asked with another method 405 with Allow', async () => {
    const response = await gateway('/kms/v1/jwks', { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    expect(await response.json()).toMatchObject({ status: 405, code: 'method-not-allowed' });
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const response = await gateway('/no/such/route');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 404,
      code: 'not-found',
      type: 'urn:rampart:problem:not-found',
    });
  });

  it('lets a platform workload call a service and refuses everyone else', async () => {
    const keyManagement = platform.services.find((service) => service.name === 'key-management')!;
    const url = `${keyManagement.url}/kms/v1/service-info`;
    const identity = await loadWorkloadSigner(
      'identity',
      join(home, 'workload/private/identity.jwk'),
    );

    const allowed = await fetch(url, {
      headers: { [WORKLOAD_ASSERTION_HEADER]: await identity.assertionFor('key-management') },
    });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ service: 'key-management', caller: 'identity' });

    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/problem\+json/);

    const wrongAudience = await fetch(url, {
      headers: { [WORKLOAD_ASSERTION_HEADER]: await identity.assertionFor('audit') },
    });
    expect(wrongAudience.status).toBe(401);

    // A well-formed assertion from a key that is not on the allowlist.
    const strangers = await createTestWorkloadKeys(['identity']);
    const impostor = await loadWorkloadSigner('identity', strangers.keyFile('identity'));
    const forged = await fetch(url, {
      headers: { [WORKLOAD_ASSERTION_HEADER]: await impostor.assertionFor('key-management') },
    });
    expect(forged.status).toBe(401);
  });

  it('does not forward a caller-supplied workload assertion through the gateway', async () => {
    const identity = await loadWorkloadSigner(
      'identity',
      join(home, 'workload/private/identity.jwk'),
    );
    const response = await gateway('/kms/v1/service-info', {
      headers: { [WORKLOAD_ASSERTION_HEADER]: await identity.assertionFor('key-management') },
    });
    expect(response.status).toBe(401);
  });

  it('announced each service start through its outbox and published it', async () => {
    const secret = (await readFile(join(home, 'secrets/postgres-admin.secret'), 'utf8')).trim();
    const client = new pg.Client({
      connectionString: `postgres://postgres:${encodeURIComponent(secret)}@127.0.0.1:${process.env['E2E_POSTGRES_PORT']}/rampart`,
    });
    await client.connect();
    try {
      for (const schema of ['identity', 'authorization', 'key_management', 'consent', 'audit']) {
        const deadline = Date.now() + 10_000;
        let rows: { type: string; published: boolean }[] = [];
        while (Date.now() < deadline) {
          const result = await client.query<{ type: string; published: boolean }>(
            `SELECT payload::jsonb->>'type' AS type, published_at IS NOT NULL AS published FROM "${schema}".outbox
              WHERE topic LIKE '%.lifecycle.v1'`,
          );
          rows = result.rows;
          if (rows.every((row) => row.published) && rows.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(rows).toEqual([
          { type: `rampart.${schema.replace('_', '-')}.lifecycle.started`, published: true },
        ]);
      }
      // Least privilege: one service's role cannot read another's tables.
      const roles = await client.query<{ has: boolean }>(
        `SELECT has_schema_privilege('rampart_identity', 'audit', 'USAGE') AS has`,
      );
      expect(roles.rows[0]?.has).toBe(false);
    } finally {
      await client.end();
    }
  });

  it('keeps secrets private on disk', async () => {
    for (const file of [
      'bootstrap.json',
      'secrets/postgres-admin.secret',
      'workload/private/identity.jwk',
      'workload/private/identity.enc.jwk',
    ]) {
      expect((await stat(join(home, file))).mode & 0o077).toBe(0);
    }
  });

  it("publishes identity's token-signing keys through the gateway, cacheable", async () => {
    const response = await gateway('/kms/v1/jwks');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await response.json()) as { keys: { alg: string; use: string }[] };
    expect(keys).toEqual([
      expect.objectContaining({ alg: 'ES256', use: 'sig' }),
      expect.objectContaining({ alg: 'ES256', use: 'sig' }),
    ]);
  });

  it('refuses a second instance on the same data folder with a clear message', async () => {
    await expect(startAllInOne(env())).rejects.toThrow(/already running/);
  });

  it('refuses production mode', async () => {
    await expect(startAllInOne({ ...env(), RAMPART_MODE: 'production' })).rejects.toThrow(
      /RAMPART_MODE=production/,
    );
  });
});

describe('all-in-one start failure', () => {
  it('gives up cleanly when a service cannot start, leaving no lock and no database behind', async () => {
    const home = await mkdtemp(join(tmpdir(), 'rampart-home-fail-'));
    const gatewayPort = 23_000 + randomInt(0, 400) * 10;
    // Someone else holds identity's port.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(gatewayPort + 1, '127.0.0.1', resolve));
    try {
      await expect(
        startAllInOne({
          RAMPART_HOME: home,
          RAMPART_PORT: String(gatewayPort),
          RAMPART_POSTGRES_PORT: String(await freePort()),
          LOG_LEVEL: 'silent',
        }),
      ).rejects.toThrow(/EADDRINUSE/);
      expect(existsSync(join(home, 'rampart.lock'))).toBe(false);
      expect(existsSync(join(home, 'postgres/postmaster.pid'))).toBe(false);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);
});
