import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, WORKLOAD_ASSERTION_HEADER } from '@rampart/platform';
import { startTestTokenIssuer } from '@rampart/platform/testing-support';
import { keyManagementService } from '../key-management.service.js';
import { b64, startKms, type KmsCaller, type KmsHarness } from '../testing/kms-harness.js';

/** The ciphertext with the version its header names replaced ("RK" 0x01, name length, name, version). */
function withVersion(ciphertext: string, version: number): string {
  const bytes = Buffer.from(ciphertext, 'base64');
  bytes.writeUInt32BE(version, 4 + bytes[3]!);
  return bytes.toString('base64');
}

describe('keys API (real PostgreSQL, through HTTP with workload identity)', () => {
  let kms: KmsHarness;
  const call = (method: 'GET' | 'POST', path: string, body?: unknown, caller?: KmsCaller) =>
    kms.call(method, path, body, caller);

  beforeAll(async () => {
    kms = await startKms();
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it('creates a key once', async () => {
    const created = await call('POST', '/kms/v1/keys', {
      name: 'orders',
      purpose: 'ENCRYPT_DECRYPT',
    });
    expect(created).toMatchObject({
      status: 201,
      body: { name: 'orders', primaryVersion: 1, minDecryptionVersion: 1 },
    });
    expect(
      (await call('POST', '/kms/v1/keys', { name: 'orders', purpose: 'ENCRYPT_DECRYPT' })).status,
    ).toBe(409);
  });

  it('round-trips with associated data, and refuses other data, tampering and other keys alike', async () => {
    const encrypted = await call('POST', '/kms/v1/keys/orders:encrypt', {
      plaintext: b64('card 4111'),
      associatedData: b64('order-1'),
    });
    expect(encrypted.status).toBe(200);
    const ciphertext = encrypted.body['ciphertext'] as string;
    expect(Buffer.from(ciphertext, 'base64').toString('latin1')).not.toContain('card 4111');

    const decrypted = await call('POST', '/kms/v1/keys/orders:decrypt', {
      ciphertext,
      associatedData: b64('order-1'),
    });
    expect(decrypted).toMatchObject({
      status: 200,
      body: { plaintext: b64('card 4111'), keyVersion: 1 },
    });

    const tampered = Buffer.from(ciphertext, 'base64');
    tampered[tampered.length - 20]! ^= 1;
    await call('POST', '/kms/v1/keys', { name: 'other', purpose: 'ENCRYPT_DECRYPT' });
    const failures = await Promise.all([
      call('POST', '/kms/v1/keys/orders:decrypt', { ciphertext, associatedData: b64('order-2') }),
      call('POST', '/kms/v1/keys/orders:decrypt', { ciphertext }),
      call('POST', '/kms/v1/keys/orders:decrypt', {
        ciphertext: tampered.toString('base64'),
        associatedData: b64('order-1'),
      }),
      call('POST', '/kms/v1/keys/other:decrypt', { ciphertext, associatedData: b64('order-1') }),
      call('POST', '/kms/v1/keys/orders:decrypt', { ciphertext: b64('not a ciphertext at all') }),
      call('POST', '/kms/v1/keys/orders:decrypt', {
        ciphertext: withVersion(ciphertext, 0xffffffff),
      }),
      call('POST', '/kms/v1/keys/orders:decrypt', { ciphertext: withVersion(ciphertext, 0) }),
    ]);
    for (const failure of failures) {
      expect(failure).toMatchObject({ status: 400, body: { code: 'decryption-failed' } });
      // One answer for every cause: nothing tells the caller which check failed.
      expect(failure.body['detail']).toBe(failures[0].body['detail']);
    }
  });

  it('rotates: new ciphertext uses the new version, old ciphertext still decrypts', async () => {
    const before = await call('POST', '/kms/v1/keys/orders:encrypt', { plaintext: b64('v1 data') });
    const rotated = await call('POST', '/kms/v1/keys/orders:rotate');
    expect(rotated).toMatchObject({ status: 200, body: { primaryVersion: 2 } });
    const after = await call('POST', '/kms/v1/keys/orders:encrypt', { plaintext: b64('v2 data') });
    expect(after.body['keyVersion']).toBe(2);
    const old = await call('POST', '/kms/v1/keys/orders:decrypt', {
      ciphertext: before.body['ciphertext'],
    });
    expect(old).toMatchObject({ status: 200, body: { plaintext: b64('v1 data'), keyVersion: 1 } });
    const key = await call('GET', '/kms/v1/keys/orders');
    expect(
      (key.body['versions'] as { version: number; state: string }[]).map((v) => [
        v.version,
        v.state,
      ]),
    ).toEqual([
      [1, 'ENABLED'],
      [2, 'ENABLED'],
    ]);
  });

  it('rewraps old ciphertext to the primary version without returning plaintext', async () => {
    const first = await call('POST', '/kms/v1/keys', {
      name: 'rewrap-me',
      purpose: 'ENCRYPT_DECRYPT',
    });
    expect(first.status).toBe(201);
    const old = await call('POST', '/kms/v1/keys/rewrap-me:encrypt', {
      plaintext: b64('secret'),
      associatedData: b64('ctx'),
    });
    await call('POST', '/kms/v1/keys/rewrap-me:rotate');
    const rewrapped = await call('POST', '/kms/v1/keys/rewrap-me:rewrap', {
      ciphertext: old.body['ciphertext'],
      associatedData: b64('ctx'),
    });
    expect(rewrapped).toMatchObject({ status: 200, body: { keyVersion: 2 } });
    expect(rewrapped.body['plaintext']).toBeUndefined();
    const opened = await call('POST', '/kms/v1/keys/rewrap-me:decrypt', {
      ciphertext: rewrapped.body['ciphertext'],
      associatedData: b64('ctx'),
    });
    expect(opened).toMatchObject({
      status: 200,
      body: { plaintext: b64('secret'), keyVersion: 2 },
    });
    const wrongContext = await call('POST', '/kms/v1/keys/rewrap-me:rewrap', {
      ciphertext: old.body['ciphertext'],
    });
    expect(wrongContext).toMatchObject({ status: 400, body: { code: 'decryption-failed' } });
  });

  it('generates data keys whose ciphertext decrypts to the same key', async () => {
    const dataKey = await call('POST', '/kms/v1/keys/orders:generateDataKey', {
      associatedData: b64('tenant-7'),
    });
    expect(dataKey.status).toBe(200);
    expect(Buffer.from(dataKey.body['plaintext'] as string, 'base64')).toHaveLength(32);
    const unwrapped = await call('POST', '/kms/v1/keys/orders:decrypt', {
      ciphertext: dataKey.body['ciphertext'],
      associatedData: b64('tenant-7'),
    });
    expect(unwrapped.body['plaintext']).toBe(dataKey.body['plaintext']);
    const another = await call('POST', '/kms/v1/keys/orders:generateDataKey', {});
    expect(another.body['plaintext']).not.toBe(dataKey.body['plaintext']);
  });

  it('keeps version material wrapped at rest and records key events, never material', async () => {
    const rows = await kms.query<{ length: number }>(
      `SELECT length(wrapped_material) AS length FROM key_versions WHERE key_name = 'orders'`,
    );
    expect(rows.map((row) => row.length)).toEqual([60, 60]); // iv 12 + tag 16 + 32 wrapped bytes
    const events = await kms.query<{ payload: string }>(
      `SELECT payload FROM outbox WHERE topic = 'rampart.key-management.key.v1' AND message_key = 'orders' ORDER BY id`,
    );
    expect(
      events.map((row) => (JSON.parse(row.payload) as { type: string; data: unknown }).data),
    ).toEqual([
      {
        name: 'orders',
        keyRing: 'consent',
        purpose: 'ENCRYPT_DECRYPT',
        algorithm: 'AES_256_GCM',
        version: 1,
        caller: 'workload:consent',
      },
      {
        name: 'orders',
        keyRing: 'consent',
        purpose: 'ENCRYPT_DECRYPT',
        version: 2,
        caller: 'workload:consent',
      },
    ]);
  });

  it('answers bad input with problem+json and the right status', async () => {
    // A missing key answers like a refused one, so names cannot be probed...
    expect(await call('GET', '/kms/v1/keys/missing')).toMatchObject({
      status: 403,
      body: { detail: 'The caller may not get on key missing.' },
    });
    expect(
      (await call('POST', '/kms/v1/keys/missing:encrypt', { plaintext: b64('x') })).status,
    ).toBe(403);
    // ...to administrators too, whose rights span every ring.
    const admin = { token: await kms.token('root', 'kms.admin') };
    expect((await call('GET', '/kms/v1/keys/missing', undefined, admin)).status).toBe(403);
    expect(
      await call('POST', '/kms/v1/keys/orders:encrypt', { plaintext: 'not base64!' }),
    ).toMatchObject({
      status: 400,
      body: { code: 'validation-failed', errors: [{ path: 'plaintext' }] },
    });
    expect((await call('POST', '/kms/v1/keys/orders:shred', {})).status).toBe(404);
    expect(
      (await call('POST', '/kms/v1/keys', { name: 'Bad Name', purpose: 'ENCRYPT_DECRYPT' })).status,
    ).toBe(400);
    expect((await call('POST', '/kms/v1/keys/orders:encrypt', '{"plaintext":')).status).toBe(400);
    const huge = { plaintext: Buffer.alloc(2 * 1024 * 1024).toString('base64') };
    expect((await call('POST', '/kms/v1/keys/orders:encrypt', huge)).status).toBe(413);
    // Within the body limit but above what :encrypt takes: envelope encryption is the answer.
    const large = { plaintext: Buffer.alloc(64 * 1024 + 1).toString('base64') };
    expect(await call('POST', '/kms/v1/keys/orders:encrypt', large)).toMatchObject({
      status: 413,
      body: { code: 'payload-too-large' },
    });
    expect(
      (
        await fetch(`${kms.service.url}/kms/v1/keys/orders`, {
          headers: { [WORKLOAD_ASSERTION_HEADER]: '' },
        })
      ).status,
    ).toBe(401);
  });

  it('admits access tokens from the trusted issuer for this audience only', async () => {
    const audience = 'urn:rampart:key-management';
    const bearer = async (token: string) => {
      const response = await fetch(`${kms.service.url}/kms/v1/keys/orders`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, challenge: response.headers.get('www-authenticate') };
    };
    expect((await bearer(await kms.token('alice', 'kms.admin'))).status).toBe(200);

    const stranger = await startTestTokenIssuer();
    const refused = await Promise.all([
      bearer(await kms.issuer.mint({ sub: 'alice', audience: 'urn:rampart:consent' })),
      bearer(await kms.issuer.mint({ sub: 'alice', audience, ttlSeconds: -60 })),
      bearer(await stranger.mint({ sub: 'alice', audience })),
      bearer('not-a-token'),
    ]);
    await stranger.close();
    for (const answer of refused) {
      expect(answer).toEqual({ status: 401, challenge: 'Bearer error="invalid_token"' });
    }
    const anonymous = await fetch(`${kms.service.url}/kms/v1/keys/orders`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses to start with a root key file others can read', async () => {
    const loose = join(await mkdtemp(join(tmpdir(), 'rampart-kms-loose-')), 'root.key');
    await writeFile(loose, randomBytes(32));
    await chmod(loose, 0o644);
    await expect(
      startService(keyManagementService, { env: { ...kms.env, KMS_ROOT_KEY_FILE: loose } }),
    ).rejects.toThrow(/must be 0600/);
  });
});
