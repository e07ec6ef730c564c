import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyAuditTrail } from '../audit/key-audit-trail.js';
import { b64, startKms, type KmsHarness } from '../testing/kms-harness.js';

/** Key policies and the audit trail as the keys API applies them on every call. */
describe('keys API: policies on every call, every call audited', () => {
  let kms: KmsHarness;
  const accessEvents = async () => {
    // The trail writes on a timer: write what is waiting now.
    await kms.service.app.get(KeyAuditTrail).flush();
    return (
      await kms.query<{ payload: string }>(
        `SELECT payload FROM outbox WHERE topic = 'rampart.key-management.key-access.v1' ORDER BY id`,
      )
    ).map((row) => (JSON.parse(row.payload) as { data: Record<string, unknown> }).data);
  };

  beforeAll(async () => {
    kms = await startKms();
    await kms.call(
      'POST',
      '/kms/v1/keys',
      { name: 'identity-secrets', purpose: 'ENCRYPT_DECRYPT' },
      {
        workload: 'identity',
      },
    );
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it("lets a service use its own ring's keys and refuses another service", async () => {
    const sealed = await kms.call(
      'POST',
      '/kms/v1/keys/identity-secrets:encrypt',
      { plaintext: b64('otp seed'), associatedData: b64('alice') },
      { workload: 'identity' },
    );
    expect(sealed.status).toBe(200);
    const stolen = await kms.call(
      'POST',
      '/kms/v1/keys/identity-secrets:decrypt',
      { ciphertext: sealed.body['ciphertext'], associatedData: b64('alice') },
      { workload: 'consent' },
    );
    expect(stolen).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: 'The caller may not decrypt on key identity-secrets.' },
    });
    expect(stolen.body['plaintext']).toBeUndefined();
  });

  it('lets kms.admin administer keys but not use them, until a policy grants it', async () => {
    const admin = { token: await kms.token('ops-1', 'kms.admin') };
    expect((await kms.call('POST', '/kms/v1/keys/identity-secrets:rotate', {}, admin)).status).toBe(
      200,
    );
    const use = () =>
      kms.call('POST', '/kms/v1/keys/identity-secrets:encrypt', { plaintext: b64('x') }, admin);
    expect((await use()).status).toBe(403);
    const granted = await kms.call(
      'PUT',
      '/kms/v1/policies/keyRings/identity/keys/identity-secrets',
      { bindings: [{ member: 'user:ops-1', operations: ['encrypt'] }] },
      admin,
    );
    expect(granted.status).toBe(200);
    expect((await use()).status).toBe(200);
  });

  it('records every call, allowed or refused, with key, version, operation, caller, outcome only', async () => {
    const events = await accessEvents();
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ring: 'identity',
          key: 'identity-secrets',
          version: 1,
          operation: 'encrypt',
          caller: { kind: 'workload', id: 'identity' },
          outcome: 'ok',
        }),
        expect.objectContaining({
          key: 'identity-secrets',
          operation: 'decrypt',
          caller: { kind: 'workload', id: 'consent' },
          outcome: 'forbidden',
        }),
        expect.objectContaining({
          operation: 'rotate',
          version: 2,
          caller: { kind: 'user', id: 'ops-1', clientId: 'test-client' },
          outcome: 'ok',
        }),
      ]),
    );
    const text = JSON.stringify(events);
    expect(text).not.toContain(b64('otp seed'));
    expect(text).not.toContain(b64('alice'));
    expect(text).not.toContain('ciphertext');
  });

  it("keeps the service's internal keys out of reach, kms.admin included", async () => {
    // Per-subject keys are named with the internal pseudonym key: make it exist.
    await kms.call('POST', '/kms/v1/subjects:generateDataKey', { tenant: 't', subject: 's' });
    const admin = { token: await kms.token('ops-1', 'kms.admin') };
    for (const [method, path, body] of [
      ['GET', '/kms/v1/keys/system.subject-pseudonyms', undefined],
      ['POST', '/kms/v1/keys/system.subject-pseudonyms:disableVersion', { version: 1 }],
      ['POST', '/kms/v1/keys/system.subject-pseudonyms:scheduleDestruction', {}],
      ['POST', '/kms/v1/keys/system.subject-pseudonyms:rotate', {}],
    ] as const) {
      expect(await kms.call(method, path, body, admin)).toMatchObject({
        status: 403,
        body: { code: 'forbidden' },
      });
    }
    expect(
      (await kms.call('POST', '/kms/v1/subjects:generateDataKey', { tenant: 't', subject: 's' }))
        .status,
    ).toBe(200);
  });

  it('lets only the personal-data services erase a subject at once; admins may only schedule', async () => {
    const admin = { token: await kms.token('ops-1', 'kms.admin') };
    const erase = { tenant: 't', subject: 's', immediately: true };
    expect(await kms.call('POST', '/kms/v1/subjects:shred', erase, admin)).toMatchObject({
      status: 403,
      body: { detail: 'The caller may not destroyNow on key ring subjects.' },
    });
    expect(
      (await kms.call('POST', '/kms/v1/subjects:shred', erase, { workload: 'audit' })).status,
    ).toBe(200);
  });

  it('does not tell a caller that a name is taken in a ring it cannot see', async () => {
    const create = { name: 'identity-secrets', purpose: 'ENCRYPT_DECRYPT' };
    expect(await kms.call('POST', '/kms/v1/keys', create, { workload: 'consent' })).toMatchObject({
      status: 403,
      body: { detail: 'The caller may not create on key identity-secrets.' },
    });
    expect((await kms.call('POST', '/kms/v1/keys', create, { workload: 'identity' })).status).toBe(
      409,
    );
  });

  it('refuses access tokens whose identifiers are too long to record', async () => {
    const token = await kms.token('x'.repeat(1100), 'kms.admin');
    expect(
      (await kms.call('GET', '/kms/v1/keys?keyRing=identity', undefined, { token })).status,
    ).toBe(401);
  });
});
