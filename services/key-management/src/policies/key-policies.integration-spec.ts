import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyOperation } from '@rampart/contracts';
import { Outbox, RampartError, type Principal, type RunningService } from '@rampart/platform';
import { KeyAuditTrail } from '../audit/key-audit-trail.js';
import { KeyAdminService } from '../keys/key-admin.service.js';
import { KeysService } from '../keys/keys.service.js';
import { KeyAccess } from './key-access.js';
import { KeyPoliciesRepository } from './key-policies.repository.js';
import { KeyPolicies, type KeyTarget } from './key-policies.service.js';
import { POLICY_CACHE_TTL_MS } from './policy-cache.js';
import { startKms, type KmsHarness } from '../testing/kms-harness.js';

type Workload = 'identity' | 'consent' | 'audit';

/** Who calls in a test: a platform service by name, or a bearer access token. */
type As = { workload: Workload } | { token: string };

const workload = (id: Workload): Principal => ({ kind: 'workload', id });

describe('key policies (real PostgreSQL, through HTTP with workload assertions and access tokens)', () => {
  let kms: KmsHarness;
  let service: RunningService;
  let policies: KeyPolicies;

  async function call(method: 'GET' | 'PUT', path: string, as: As, body?: unknown) {
    const answer = await kms.call(method, path, body, as);
    return {
      status: answer.status,
      contentType: answer.headers.get('content-type'),
      body: answer.body,
    };
  }

  const token = (sub: string, scope?: string) => kms.token(sub, scope);

  /** How `authorize` answers: 'allowed', or the error's code and detail. */
  async function decision(principal: Principal, operation: KeyOperation, target: KeyTarget) {
    try {
      await policies.authorize(principal, operation, target);
      return 'allowed';
    } catch (error) {
      if (error instanceof RampartError) return `${error.code}: ${error.detail}`;
      throw error;
    }
  }

  async function outboxEvents(type: string) {
    const rows = await service.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
      [type],
    );
    return rows.map(
      (row) => JSON.parse(row.payload) as { subject: string; data: Record<string, unknown> },
    );
  }

  beforeAll(async () => {
    kms = await startKms();
    service = kms.service;
    policies = service.app.get(KeyPolicies);
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it('denies by default and says only which operation on which resource', async () => {
    const refused = await call('GET', '/kms/v1/policies/keyRings/identity', {
      workload: 'consent',
    });
    expect(refused).toMatchObject({
      status: 403,
      contentType: 'application/problem+json; charset=utf-8',
      body: {
        code: 'forbidden',
        detail: 'The caller may not getPolicy on key ring identity.',
      },
    });
    expect(
      await decision(workload('consent'), 'decrypt', { ring: 'identity', key: 'sessions' }),
    ).toBe('forbidden: The caller may not decrypt on key sessions.');
    // A token without any scope or binding gets nothing either.
    const nobody = await call('GET', '/kms/v1/policies/keyRings/identity', {
      token: await token('mallory'),
    });
    expect(nobody.status).toBe(403);
  });

  it('lets a service own the ring named after it without any configuration', async () => {
    expect(
      await decision(workload('identity'), 'decrypt', { ring: 'identity', key: 'sessions' }),
    ).toBe('allowed');
    const own = await call('GET', '/kms/v1/policies/keyRings/identity', { workload: 'identity' });
    expect(own).toMatchObject({
      status: 200,
      body: { ring: 'identity', bindings: [], version: 0 },
    });
  });

  it('grants what a ring policy binds, to that member and operation only, on every key of the ring', async () => {
    const set = await call(
      'PUT',
      '/kms/v1/policies/keyRings/identity',
      { workload: 'identity' },
      {
        bindings: [{ member: 'workload:consent', operations: ['encrypt', 'decrypt'] }],
        version: 0,
      },
    );
    expect(set).toMatchObject({
      status: 200,
      body: {
        ring: 'identity',
        version: 1,
        updatedBy: 'workload:identity',
        bindings: [{ member: 'workload:consent', operations: ['encrypt', 'decrypt'] }],
      },
    });
    // Seen at once by this instance: the change invalidates the cached policy.
    expect(
      await decision(workload('consent'), 'decrypt', { ring: 'identity', key: 'sessions' }),
    ).toBe('allowed');
    expect(await decision(workload('consent'), 'encrypt', { ring: 'identity' })).toBe('allowed');
    expect(
      await decision(workload('consent'), 'rotate', { ring: 'identity', key: 'sessions' }),
    ).toMatch(/^forbidden/);
    expect(
      await decision(workload('audit'), 'decrypt', { ring: 'identity', key: 'sessions' }),
    ).toMatch(/^forbidden/);
    // The grant does not make consent an administrator of identity's ring.
    expect(
      (await call('GET', '/kms/v1/policies/keyRings/identity', { workload: 'consent' })).status,
    ).toBe(403);
  });

  it('applies a key policy to that key of that ring only', async () => {
    const set = await call(
      'PUT',
      '/kms/v1/policies/keyRings/audit/keys/trail',
      { workload: 'audit' },
      { bindings: [{ member: 'workload:identity', operations: ['verify'] }] },
    );
    expect(set).toMatchObject({ status: 200, body: { ring: 'audit', key: 'trail', version: 1 } });
    expect(await decision(workload('identity'), 'verify', { ring: 'audit', key: 'trail' })).toBe(
      'allowed',
    );
    expect(await decision(workload('identity'), 'verify', { ring: 'audit', key: 'other' })).toMatch(
      /^forbidden/,
    );
    expect(await decision(workload('identity'), 'verify', { ring: 'audit' })).toMatch(/^forbidden/);
    // A key of the same name in another ring is another key: the policy does not follow the name.
    expect(await decision(workload('consent'), 'verify', { ring: 'consent', key: 'trail' })).toBe(
      'allowed',
    );
    expect(
      await decision(workload('identity'), 'verify', { ring: 'consent', key: 'trail' }),
    ).toMatch(/^forbidden/);
    const read = await call('GET', '/kms/v1/policies/keyRings/audit/keys/trail', {
      workload: 'audit',
    });
    expect(read).toMatchObject({
      status: 200,
      body: { bindings: [{ member: 'workload:identity', operations: ['verify'] }], version: 1 },
    });
  });

  it('lets kms.admin administer any ring but not use its keys unless a binding says so', async () => {
    const admin = await token('alice', 'openid kms.admin');
    const read = await call('GET', '/kms/v1/policies/keyRings/consent', { token: admin });
    expect(read).toMatchObject({ status: 200, body: { version: 0 } });
    const alice: Principal = { kind: 'user', id: 'alice', scopes: ['openid', 'kms.admin'] };
    expect(await decision(alice, 'rotate', { ring: 'consent', key: 'records' })).toBe('allowed');
    expect(await decision(alice, 'decrypt', { ring: 'consent', key: 'records' })).toMatch(
      /^forbidden/,
    );

    const set = await call(
      'PUT',
      '/kms/v1/policies/keyRings/consent',
      { token: admin },
      {
        bindings: [
          { member: 'user:alice', operations: ['decrypt'] },
          { member: 'scope:records.read', operations: ['decrypt'] },
        ],
      },
    );
    expect(set).toMatchObject({ status: 200, body: { version: 1, updatedBy: 'user:alice' } });
    expect(await decision(alice, 'decrypt', { ring: 'consent', key: 'records' })).toBe('allowed');
    const bob: Principal = { kind: 'user', id: 'bob', scopes: ['records.read'] };
    expect(await decision(bob, 'decrypt', { ring: 'consent', key: 'records' })).toBe('allowed');
    expect(await decision(bob, 'encrypt', { ring: 'consent', key: 'records' })).toMatch(
      /^forbidden/,
    );
    // The scope grants use, not administration.
    const bobsToken = await token('bob', 'records.read');
    expect(
      (await call('GET', '/kms/v1/policies/keyRings/consent', { token: bobsToken })).status,
    ).toBe(403);
  });

  it('refuses a change based on a stale version, and writes nothing for it', async () => {
    const path = '/kms/v1/policies/keyRings/identity';
    const as = { workload: 'identity' } as const;
    const current = (await call('GET', path, as)).body['version'] as number;
    const before = (await outboxEvents('rampart.key-management.key-policy.updated')).length;
    for (const stale of [0, current - 1, current + 5]) {
      expect(await call('PUT', path, as, { bindings: [], version: stale })).toMatchObject({
        status: 409,
        body: { code: 'conflict' },
      });
    }
    // No policy yet, but the change claims to be based on one: refused, and nothing is created.
    expect(
      await call('PUT', '/kms/v1/policies/keyRings/identity/keys/fresh', as, {
        bindings: [],
        version: 3,
      }),
    ).toMatchObject({ status: 409 });
    expect(await call('GET', '/kms/v1/policies/keyRings/identity/keys/fresh', as)).toMatchObject({
      body: { version: 0 },
    });
    expect(await outboxEvents('rampart.key-management.key-policy.updated')).toHaveLength(before);
    expect(
      await call('PUT', path, as, {
        bindings: [{ member: 'workload:consent', operations: ['decrypt'] }],
        version: current,
      }),
    ).toMatchObject({ status: 200, body: { version: current + 1 } });
  });

  it('records every policy change as an event, written with the change', async () => {
    const events = await outboxEvents('rampart.key-management.key-policy.updated');
    expect(events.map((event) => [event.subject, event.data['version']])).toEqual([
      ['keyRings/identity', 1],
      ['keyRings/audit/keys/trail', 1],
      ['keyRings/consent', 1],
      ['keyRings/identity', 2],
    ]);
    expect(events[2]!.data).toEqual({
      ring: 'consent',
      version: 1,
      bindings: [
        { member: 'scope:records.read', operations: ['decrypt'] },
        { member: 'user:alice', operations: ['decrypt'] },
      ],
      caller: { kind: 'user', id: 'alice', clientId: 'test-client' },
    });
  });

  it('answers malformed policies with the fields at fault', async () => {
    const as = { workload: 'identity' } as const;
    const path = '/kms/v1/policies/keyRings/identity';
    const cases: [unknown, string][] = [
      [{ bindings: [{ member: 'workload:nobody', operations: ['decrypt'] }] }, 'bindings.0.member'],
      [{ bindings: [{ member: 'group:admins', operations: ['decrypt'] }] }, 'bindings.0.member'],
      [{ bindings: [{ member: 'user:has space', operations: ['decrypt'] }] }, 'bindings.0.member'],
      [{ bindings: [{ member: 'scope:ok', operations: ['explode'] }] }, 'bindings.0.operations.0'],
      [{ bindings: [{ member: 'scope:ok', operations: [] }] }, 'bindings.0.operations'],
      [{ bindings: [{ member: 'scope:ok', operations: ['get'], extra: 1 }] }, 'bindings.0'],
      [{ bindings: [], version: -1 }, 'version'],
      [{}, 'bindings'],
    ];
    for (const [body, path_] of cases) {
      const answer = await call('PUT', path, as, body);
      expect(answer).toMatchObject({ status: 400, body: { code: 'validation-failed' } });
      expect(answer.body['errors']).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: path_ })]),
      );
    }
    expect((await call('GET', '/kms/v1/policies/keyRings/Not%20A%20Ring', as)).status).toBe(400);
  });

  it('documents the policy API in the OpenAPI document of the service', async () => {
    const document = (await (await fetch(`${service.url}/kms/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string; requestBody?: unknown }>>;
    };
    const ring = document.paths['/kms/v1/policies/keyRings/{ring}'];
    const key = document.paths['/kms/v1/policies/keyRings/{ring}/keys/{key}'];
    expect(
      [ring?.['get'], ring?.['put'], key?.['get'], key?.['put']].map((route) => route?.operationId),
    ).toEqual(['getKeyRingPolicy', 'setKeyRingPolicy', 'getKeyPolicy', 'setKeyPolicy']);
    expect(ring?.['put']?.requestBody).toBeDefined();
  });

  it('audits policy reads and changes, allowed and refused', async () => {
    await service.app.get(KeyAuditTrail).flush();
    const events = await outboxEvents('rampart.key-management.key.accessed');
    const summary = events.map((event) => {
      const data = event.data as {
        ring: string;
        key?: string;
        operation: string;
        outcome: string;
        caller: { id: string };
      };
      return `${data.caller.id} ${data.operation} ${data.ring}${data.key ? `/${data.key}` : ''} ${data.outcome}`;
    });
    expect(summary).toEqual(
      expect.arrayContaining([
        'consent getPolicy identity forbidden',
        'mallory getPolicy identity forbidden',
        'identity getPolicy identity ok',
        'identity setPolicy identity ok',
        'identity setPolicy identity conflict',
        'identity setPolicy identity validation-failed',
        'audit setPolicy audit/trail ok',
        'alice setPolicy consent ok',
        'bob getPolicy consent forbidden',
      ]),
    );
  });

  it('sees a change made through another replica within the cache time', async () => {
    const other = new KeyPolicies(service.app.get(KeyPoliciesRepository), service.app.get(Outbox));
    const target = { ring: 'identity', key: 'replicated' };
    expect(await decision(workload('audit'), 'sign', target)).toMatch(/^forbidden/);
    await other.setPolicy(workload('identity'), target, [
      { member: 'workload:audit', operations: ['sign'] },
    ]);
    // Still the cached answer here...
    expect(await decision(workload('audit'), 'sign', target)).toMatch(/^forbidden/);
    await new Promise((resolve) => setTimeout(resolve, POLICY_CACHE_TTL_MS + 100));
    // ...and the new one once it expired.
    expect(await decision(workload('audit'), 'sign', target)).toBe('allowed');
  });

  it('guards real key operations: policy first, outcome audited, no key material or data in the trail', async () => {
    const access = service.app.get(KeyAccess);
    const keys = service.app.get(KeysService, { strict: false });
    const admin = service.app.get(KeyAdminService, { strict: false });
    const plaintext = Buffer.from('4111 1111 1111 1111');
    const associatedData = Buffer.from('order-4711');
    await access.perform(workload('consent'), 'create', { ring: 'consent', key: 'cards' }, () =>
      admin.create(
        { name: 'cards', keyRing: 'consent', purpose: 'ENCRYPT_DECRYPT', algorithm: 'AES_256_GCM' },
        'workload:consent',
      ),
    );
    const encrypted = await access.perform(
      workload('consent'),
      'encrypt',
      { ring: 'consent', key: 'cards' },
      () => keys.encrypt('cards', plaintext, associatedData),
      (result) => ({ version: result.keyVersion }),
    );
    let ran = false;
    await expect(
      access.perform(workload('identity'), 'decrypt', { ring: 'consent', key: 'cards' }, () => {
        ran = true;
        return keys.decrypt('cards', encrypted.ciphertext, associatedData);
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect(ran).toBe(false);
    await expect(
      access.perform(workload('consent'), 'decrypt', { ring: 'consent', key: 'cards' }, () =>
        keys.decrypt('cards', encrypted.ciphertext, Buffer.from('order-0000')),
      ),
    ).rejects.toMatchObject({ code: 'decryption-failed' });

    await service.app.get(KeyAuditTrail).flush();
    const rows = await service.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE message_key = 'cards' ORDER BY id`,
    );
    const trail = rows
      .map((row) => JSON.parse(row.payload) as { type: string; data: Record<string, unknown> })
      .filter((event) => event.type === 'rampart.key-management.key.accessed')
      .map((event) => event.data);
    expect(trail).toEqual([
      expect.objectContaining({ operation: 'create', outcome: 'ok', calls: 1 }),
      expect.objectContaining({ operation: 'encrypt', version: 1, outcome: 'ok', calls: 1 }),
      expect.objectContaining({
        operation: 'decrypt',
        outcome: 'forbidden',
        caller: { kind: 'workload', id: 'identity' },
      }),
      expect.objectContaining({ operation: 'decrypt', outcome: 'decryption-failed' }),
    ]);
    const everything = rows.map((row) => row.payload).join('\n');
    for (const secret of [plaintext, associatedData, encrypted.ciphertext]) {
      expect(everything).not.toContain(secret.toString('base64'));
      expect(everything).not.toContain(secret.toString('hex'));
      expect(everything).not.toContain(secret.toString('latin1'));
    }
  });
});
