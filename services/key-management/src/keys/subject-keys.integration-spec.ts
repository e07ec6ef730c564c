import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { b64, startKms, type KmsHarness } from '../testing/kms-harness.js';

describe('per-subject keys and crypto-shredding (real PostgreSQL, through HTTP)', () => {
  let kms: KmsHarness;
  const dataKey = (subject: string, tenant = 'acme') =>
    kms.call('POST', '/kms/v1/subjects:generateDataKey', {
      tenant,
      subject,
      associatedData: b64('profile'),
    });
  const unwrap = (keyName: unknown, ciphertext: unknown) =>
    kms.call('POST', `/kms/v1/keys/${keyName as string}:decrypt`, {
      ciphertext,
      associatedData: b64('profile'),
    });

  beforeAll(async () => {
    kms = await startKms();
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it('creates one key per (tenant, subject) on first use, named without the subject', async () => {
    const first = await dataKey('alice@example.com');
    expect(first.status).toBe(200);
    const keyName = first.body['keyName'] as string;
    expect(keyName).toMatch(/^subject-[0-9a-f]{40}$/);
    expect((await dataKey('alice@example.com')).body['keyName']).toBe(keyName);
    expect((await dataKey('bob@example.com')).body['keyName']).not.toBe(keyName);
    expect((await dataKey('alice@example.com', 'globex')).body['keyName']).not.toBe(keyName);
    expect((await unwrap(keyName, first.body['ciphertext'])).body['plaintext']).toBe(
      first.body['plaintext'],
    );

    const key = await kms.call('GET', `/kms/v1/keys/${keyName}`);
    expect(key.body).toMatchObject({ keyRing: 'subjects', purpose: 'ENCRYPT_DECRYPT' });
    // The subject's identifier is nowhere in the database or the events.
    const dump = await kms.query<{ text: string }>(
      `SELECT (SELECT string_agg(k::text, ' ') FROM keys k) || (SELECT string_agg(payload, ' ') FROM outbox) AS text`,
    );
    expect(dump[0]!.text).not.toContain('alice');
  });

  it('erases at once for an erasure request: everything under the key is unreadable', async () => {
    const stored = await dataKey('carol');
    const shredded = await kms.call('POST', '/kms/v1/subjects:shred', {
      tenant: 'acme',
      subject: 'carol',
      immediately: true,
    });
    expect(shredded.status).toBe(200);
    expect((shredded.body['versions'] as { state: string }[])[0]!.state).toBe('DESTROYED');
    expect(await unwrap(stored.body['keyName'], stored.body['ciphertext'])).toMatchObject({
      status: 410,
      body: { code: 'key-destroyed' },
    });
    // No new data for an erased subject.
    expect(await dataKey('carol')).toMatchObject({ status: 410, body: { code: 'key-destroyed' } });
    const [event] = await kms.query<{ payload: string }>(
      `SELECT payload FROM outbox WHERE message_key = $1 AND payload LIKE '%version-destroyed%'`,
      [stored.body['keyName']],
    );
    expect(JSON.parse(event!.payload)).toMatchObject({
      type: 'rampart.key-management.key.version-destroyed',
      data: { keyRing: 'subjects', version: 1, erasure: true, caller: 'workload:consent' },
    });
  });

  it('waits the waiting period by default, and can be cancelled until it ends', async () => {
    const stored = await dataKey('dave');
    const scheduled = await kms.call('POST', '/kms/v1/subjects:shred', {
      tenant: 'acme',
      subject: 'dave',
    });
    expect((scheduled.body['versions'] as { state: string }[])[0]!.state).toBe('DESTROY_SCHEDULED');
    expect((await unwrap(stored.body['keyName'], stored.body['ciphertext'])).status).toBe(400);
    const cancelled = await kms.call(
      'POST',
      `/kms/v1/keys/${stored.body['keyName'] as string}:cancelDestruction`,
      {},
    );
    expect(cancelled.status).toBe(200);
    expect(
      (await unwrap(stored.body['keyName'], stored.body['ciphertext'])).body['plaintext'],
    ).toBe(stored.body['plaintext']);
  });

  it('treats a subject without a key as nothing to shred', async () => {
    const answer = await kms.call('POST', '/kms/v1/subjects:shred', {
      tenant: 'acme',
      subject: 'never-seen',
      immediately: true,
    });
    expect(answer).toMatchObject({ status: 200, body: { versions: [] } });
  });

  it('refuses control characters, which would blur where tenant ends and subject begins', async () => {
    for (const [tenant, subject] of [
      ['a', 'b\u0000c'],
      ['a\u0000b', 'c'],
    ]) {
      expect(
        await kms.call('POST', '/kms/v1/subjects:generateDataKey', { tenant, subject }),
      ).toMatchObject({ status: 400, body: { code: 'validation-failed' } });
    }
  });
});
