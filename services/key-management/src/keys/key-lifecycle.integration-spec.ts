import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyScheduler } from './key-scheduler.js';
import { b64, startKms, type KmsHarness } from '../testing/kms-harness.js';

type Versions = { version: number; state: string; destroyAt?: string }[];

describe('key lifecycle: states, destruction, minimum version, scheduled rotation, batches', () => {
  let kms: KmsHarness;
  const encrypt = (key: string, text: string) =>
    kms.call('POST', `/kms/v1/keys/${key}:encrypt`, { plaintext: b64(text) });
  const decrypt = (key: string, ciphertext: unknown) =>
    kms.call('POST', `/kms/v1/keys/${key}:decrypt`, { ciphertext });
  const events = async (key: string) =>
    (
      await kms.query<{ payload: string }>(
        `SELECT payload FROM outbox WHERE topic = 'rampart.key-management.key.v1' AND message_key = $1 ORDER BY id`,
        [key],
      )
    ).map((row) => JSON.parse(row.payload) as { type: string; data: Record<string, unknown> });
  const tick = () => kms.service.app.get(KeyScheduler).tick();

  beforeAll(async () => {
    kms = await startKms();
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it('disables a version (every operation refuses it) and enables it again', async () => {
    await kms.call('POST', '/kms/v1/keys', { name: 'ledger', purpose: 'ENCRYPT_DECRYPT' });
    const sealed = await encrypt('ledger', 'balance 10');
    const disabled = await kms.call('POST', '/kms/v1/keys/ledger:disableVersion', { version: 1 });
    expect((disabled.body['versions'] as Versions)[0]!.state).toBe('DISABLED');
    for (const answer of [
      await decrypt('ledger', sealed.body['ciphertext']),
      await encrypt('ledger', 'more'),
    ]) {
      expect(answer).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
      expect(answer.body['detail']).toBe('Version 1 of key ledger is disabled.');
    }
    await kms.call('POST', '/kms/v1/keys/ledger:enableVersion', { version: 1 });
    expect((await decrypt('ledger', sealed.body['ciphertext'])).body['plaintext']).toBe(
      b64('balance 10'),
    );
    expect((await events('ledger')).map((event) => event.data['state'])).toEqual([
      undefined,
      'DISABLED',
      'ENABLED',
    ]);
    expect(
      (await kms.call('POST', '/kms/v1/keys/ledger:disableVersion', { version: 9 })).status,
    ).toBe(404);
  });

  it('refuses ciphertext below min_decryption_version, and a minimum above the primary', async () => {
    const old = await encrypt('ledger', 'v1');
    await kms.call('POST', '/kms/v1/keys/ledger:rotate');
    const raised = await kms.call('PATCH', '/kms/v1/keys/ledger', { minDecryptionVersion: 2 });
    expect(raised).toMatchObject({ status: 200, body: { minDecryptionVersion: 2 } });
    expect(await decrypt('ledger', old.body['ciphertext'])).toMatchObject({
      status: 400,
      body: { code: 'failed-precondition' },
    });
    expect((await encrypt('ledger', 'v2')).body['keyVersion']).toBe(2);
    expect(
      await kms.call('PATCH', '/kms/v1/keys/ledger', { minDecryptionVersion: 3 }),
    ).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
    const lowered = await kms.call('PATCH', '/kms/v1/keys/ledger', { minDecryptionVersion: 1 });
    expect(lowered.body['minDecryptionVersion']).toBe(1);
    expect((await decrypt('ledger', old.body['ciphertext'])).status).toBe(200);
  });

  it('schedules destruction after the waiting period, and a cancel restores the versions', async () => {
    await kms.call('POST', '/kms/v1/keys', {
      name: 'drafts',
      purpose: 'ENCRYPT_DECRYPT',
      destructionWaitingDays: 3,
    });
    const sealed = await encrypt('drafts', 'draft 1');
    const scheduled = await kms.call('POST', '/kms/v1/keys/drafts:scheduleDestruction', {});
    const [version] = scheduled.body['versions'] as Versions;
    expect(version!.state).toBe('DESTROY_SCHEDULED');
    const days = (Date.parse(version!.destroyAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2.99);
    expect(days).toBeLessThan(3.01);
    expect(await decrypt('drafts', sealed.body['ciphertext'])).toMatchObject({
      status: 400,
      body: {
        code: 'failed-precondition',
        detail: 'Version 1 of key drafts is destroy scheduled.',
      },
    });
    // Not due yet: the scheduler leaves it alone.
    expect((await tick()).destroyed).toBe(0);

    const cancelled = await kms.call('POST', '/kms/v1/keys/drafts:cancelDestruction', {});
    expect((cancelled.body['versions'] as Versions)[0]).toMatchObject({ state: 'ENABLED' });
    expect((cancelled.body['versions'] as Versions)[0]!.destroyAt).toBeUndefined();
    expect((await decrypt('drafts', sealed.body['ciphertext'])).status).toBe(200);
    expect(
      await kms.call('POST', '/kms/v1/keys/drafts:cancelDestruction', { versions: [1] }),
    ).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
  });

  it('destroys when the waiting period ends: material erased, a clear 410, an event', async () => {
    const sealed = await encrypt('drafts', 'draft 2');
    await kms.call('POST', '/kms/v1/keys/drafts:scheduleDestruction', { versions: [1] });
    // Let the waiting period pass.
    await kms.query(
      `UPDATE key_versions SET destroy_at = now() - interval '1 second' WHERE key_name = 'drafts'`,
    );
    expect(await tick()).toMatchObject({ destroyed: 1 });
    const [row] = await kms.query<{ state: string; wrapped_material: Buffer | null }>(
      `SELECT state, wrapped_material FROM key_versions WHERE key_name = 'drafts'`,
    );
    expect(row).toEqual({ state: 'DESTROYED', wrapped_material: null });
    const refused = await decrypt('drafts', sealed.body['ciphertext']);
    expect(refused).toMatchObject({
      status: 410,
      body: {
        code: 'key-destroyed',
        detail: 'Version 1 of key drafts was destroyed: what it protected cannot be recovered.',
      },
    });
    expect((await events('drafts')).map((event) => event.type).slice(-1)).toEqual([
      'rampart.key-management.key.version-destroyed',
    ]);
    expect((await events('drafts')).at(-1)!.data).toMatchObject({
      caller: 'scheduler',
      erasure: false,
    });
    expect(await kms.call('POST', '/kms/v1/keys/drafts:cancelDestruction', {})).toMatchObject({
      status: 200,
    }); // nothing scheduled any more: nothing to cancel
    expect(
      await kms.call('POST', '/kms/v1/keys/drafts:enableVersion', { version: 1 }),
    ).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
  });

  it('rotates keys on their schedule', async () => {
    const created = await kms.call('POST', '/kms/v1/keys', {
      name: 'sessions',
      purpose: 'ENCRYPT_DECRYPT',
      rotationPeriodSeconds: 86_400,
    });
    const next = Date.parse(created.body['nextRotationAt'] as string);
    expect(Math.abs(next - Date.now() - 86_400_000)).toBeLessThan(60_000);
    expect((await tick()).rotated).toBe(0);
    await kms.query(
      `UPDATE keys SET next_rotation_at = now() - interval '1 second' WHERE name = 'sessions'`,
    );
    expect((await tick()).rotated).toBe(1);
    const key = await kms.call('GET', '/kms/v1/keys/sessions');
    expect(key.body['primaryVersion']).toBe(2);
    expect(Date.parse(key.body['nextRotationAt'] as string)).toBeGreaterThan(
      Date.now() + 86_000_000,
    );
    expect((await events('sessions')).at(-1)).toMatchObject({
      type: 'rampart.key-management.key.rotated',
      data: { version: 2, caller: 'scheduler' },
    });
    const stopped = await kms.call('PATCH', '/kms/v1/keys/sessions', {
      rotationPeriodSeconds: null,
    });
    expect(stopped.body).toMatchObject({ rotationPeriodSeconds: null, nextRotationAt: null });
  });

  it('runs batches item by item: one bad item fails alone', async () => {
    const items = Array.from({ length: 50 }, (_, index) => ({
      plaintext: b64(`item ${index}`),
      associatedData: b64(`row-${index}`),
    }));
    const encrypted = await kms.call('POST', '/kms/v1/keys/ledger:batchEncrypt', { items });
    const results = encrypted.body['results'] as { ciphertext: string; keyVersion: number }[];
    expect(results).toHaveLength(50);
    const decryptItems = results.map((result, index) => ({
      ciphertext: result.ciphertext,
      associatedData: b64(`row-${index}`),
    }));
    decryptItems[7] = { ...decryptItems[7]!, associatedData: b64('wrong') };
    const decrypted = await kms.call('POST', '/kms/v1/keys/ledger:batchDecrypt', {
      items: decryptItems,
    });
    const opened = decrypted.body['results'] as Record<string, unknown>[];
    expect(opened[0]).toEqual({ plaintext: b64('item 0'), keyVersion: 2 });
    expect(opened[7]).toEqual({
      error: {
        code: 'decryption-failed',
        detail: 'The ciphertext could not be decrypted with this key and associated data.',
      },
    });
    expect(opened.filter((result) => 'plaintext' in result)).toHaveLength(49);

    await kms.call('POST', '/kms/v1/keys/ledger:rotate');
    const rewrapped = await kms.call('POST', '/kms/v1/keys/ledger:batchRewrap', {
      items: decryptItems.slice(0, 3),
    });
    expect(
      (rewrapped.body['results'] as { keyVersion: number }[]).map((result) => result.keyVersion),
    ).toEqual([3, 3, 3]);
    const tooMany = Array.from({ length: 1001 }, () => ({ plaintext: b64('x') }));
    expect(
      (await kms.call('POST', '/kms/v1/keys/ledger:batchEncrypt', { items: tooMany })).status,
    ).toBe(400);
  });

  it('lists the keys of a ring a page at a time', async () => {
    const first = await kms.call('GET', '/kms/v1/keys?keyRing=consent&pageSize=2');
    expect((first.body['keys'] as { name: string }[]).map((key) => key.name)).toEqual([
      'drafts',
      'ledger',
    ]);
    const second = await kms.call(
      'GET',
      `/kms/v1/keys?keyRing=consent&pageSize=2&pageToken=${first.body['nextPageToken'] as string}`,
    );
    expect((second.body['keys'] as { name: string }[]).map((key) => key.name)).toEqual([
      'sessions',
    ]);
    expect(second.body['nextPageToken']).toBeUndefined();
  });
});
