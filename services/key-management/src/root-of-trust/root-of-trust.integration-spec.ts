import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, startService, type RunningService } from '@rampart/platform';
import { keyManagementService } from '../key-management.service.js';
import { FileRootKey, versionBinding } from './root-key.js';
import { b64, startKms, type KmsCaller, type KmsHarness } from '../testing/kms-harness.js';
import { RootKeyring } from './root-keyring.js';

const identity: KmsCaller = { workload: 'identity' };

describe('root of trust (real PostgreSQL, through HTTP)', () => {
  let kms: KmsHarness;
  let service: RunningService;
  let env: Record<string, string>;
  let folder: string;

  const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
    kms.call(method, path, body, identity);
  const secretFile = (name: string, content: Buffer | string, mode?: number) =>
    kms.secretFile(name, content, mode);

  beforeAll(async () => {
    kms = await startKms({}, { schema: 'kms_root_of_trust' });
    ({ service, env, folder } = kms);
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it('binds each wrapped version to its key and version: moved elsewhere, it does not unwrap', async () => {
    for (const name of ['alpha', 'beta']) {
      expect(
        (await call('POST', '/kms/v1/keys', { name, purpose: 'ENCRYPT_DECRYPT' })).status,
      ).toBe(201);
    }
    const sealed = await call('POST', '/kms/v1/keys/alpha:encrypt', { plaintext: b64('secret') });
    await call('POST', '/kms/v1/keys/alpha:rotate');
    // Someone with database access copies alpha v1's wrapped material over beta v1 and alpha v2.
    await service.dataSource!.query(
      `UPDATE key_versions
          SET wrapped_material = (SELECT wrapped_material FROM key_versions WHERE key_name = 'alpha' AND version = 1)
        WHERE (key_name, version) IN (('beta', 1), ('alpha', 2))`,
    );
    // A fresh replica on the same database and root key, so nothing comes from a cache.
    const replica = await startService(keyManagementService, { env });
    try {
      const post = (path: string, body: unknown) =>
        kms.request(replica, 'POST', path, body, identity);
      // alpha v1 is where it belongs: its ciphertext still opens.
      expect(
        await post('/kms/v1/keys/alpha:decrypt', { ciphertext: sealed.body['ciphertext'] }),
      ).toMatchObject({ status: 200, body: { plaintext: b64('secret') } });
      // beta v1 and alpha v2 hold material wrapped for another binding: nothing is encrypted.
      for (const key of ['alpha', 'beta']) {
        const refused = await post(`/kms/v1/keys/${key}:encrypt`, { plaintext: b64('more') });
        expect(refused).toMatchObject({ status: 500, body: { code: 'internal' } });
        expect(refused.body['ciphertext']).toBeUndefined();
      }
      const keyring = replica.app.get(RootKeyring);
      const moved = await replica.dataSource!.query<
        { key_name: string; version: number; wrapped_material: Buffer }[]
      >(
        `SELECT key_name, version, wrapped_material FROM key_versions
          WHERE (key_name, version) IN (('beta', 1), ('alpha', 2))`,
      );
      expect(moved).toHaveLength(2);
      for (const row of moved) {
        await expect(
          keyring.unwrap(row.wrapped_material, versionBinding(row.key_name, row.version)),
        ).rejects.toThrow(/No configured root key unwraps this value/);
      }
    } finally {
      await replica.stop();
    }
  });

  it('refuses a wrapped value under any other binding, and an altered one', async () => {
    const key = await FileRootKey.open(env['KMS_ROOT_KEY_FILE']!);
    const material = randomBytes(32);
    const wrapped = await key.wrap(material, versionBinding('orders', 3));
    expect(await key.unwrap(wrapped, versionBinding('orders', 3))).toEqual(material);
    for (const binding of [versionBinding('orders', 4), versionBinding('invoices', 3), '']) {
      await expect(key.unwrap(wrapped, binding)).rejects.toThrow();
    }
    const altered = Buffer.from(wrapped);
    altered[altered.length - 1]! ^= 1;
    await expect(key.unwrap(altered, versionBinding('orders', 3))).rejects.toThrow();
    await expect(key.unwrap(wrapped.subarray(0, 20), versionBinding('orders', 3))).rejects.toThrow(
      /too short/,
    );
    // The id is a fingerprint, stable for the same key and different for another.
    expect(key.id).toMatch(/^root-[0-9a-f]{16}$/);
    expect((await FileRootKey.open(env['KMS_ROOT_KEY_FILE']!)).id).toBe(key.id);
    const other = await FileRootKey.open(await secretFile('other.key', randomBytes(32)));
    expect(other.id).not.toBe(key.id);
  });

  it('reports the root and rotation progress to workloads and to kms.admin tokens only', async () => {
    const root = await call('GET', '/kms/v1/root');
    expect(root).toMatchObject({
      status: 200,
      body: {
        rootKeyId: expect.stringMatching(/^root-[0-9a-f]{16}$/),
        previousRootKeyIds: [],
        remaining: 0,
        tables: [
          { table: 'key_versions', remaining: 0 },
          { table: 'token_signing_keys', remaining: 0 },
        ],
      },
    });
    // alpha v1, v2 and beta v1 from the first test, and identity's first two token-signing keys
    expect(root.body['rewrapped']).toBe(5);
    const audience = 'urn:rampart:key-management';
    const withToken = async (scope: string) =>
      (
        await fetch(`${service.url}/kms/v1/root`, {
          headers: {
            authorization: `Bearer ${await kms.issuer.mint({ sub: 'admin', scope, audience })}`,
          },
        })
      ).status;
    expect(await withToken('kms.admin')).toBe(200);
    expect(await withToken('kms:read openid')).toBe(403);
    expect((await fetch(`${service.url}/kms/v1/root`)).status).toBe(401);
  });

  it('refuses to start on root key files that others can read, or that are not 32 bytes', async () => {
    const loose = await secretFile('loose.key', randomBytes(32), 0o644);
    const short = await secretFile('short.key', randomBytes(16));
    const attempts: [Record<string, string>, RegExp][] = [
      [
        { KMS_ROOT_KEY_FILE: loose },
        /loose\.key is readable by others \(mode 644\); it must be 0600/,
      ],
      [{ KMS_PREVIOUS_ROOT_KEY_FILES: loose }, /loose\.key is readable by others/],
      [{ KMS_ROOT_KEY_FILE: short }, /must hold exactly 32 random bytes \(it holds 16\)/],
      [{ KMS_ROOT_KEY_FILE: join(folder, 'missing.key') }, /ENOENT/],
    ];
    for (const [overrides, reason] of attempts) {
      await expect(
        startService(keyManagementService, { env: { ...env, ...overrides } }),
      ).rejects.toThrow(reason);
    }
  });

  it('names the variable when the root key source is missing, doubled or incomplete', async () => {
    const { KMS_ROOT_KEY_FILE: rootKeyFile, ...withoutRoot } = env;
    const cases: [Record<string, string | undefined>, string, RegExp][] = [
      [withoutRoot, 'KMS_ROOT_KEY_FILE', /required/],
      [{ ...env, KMS_PKCS11_KEY_LABEL: 'root' }, 'KMS_PKCS11_KEY_LABEL', /one source/],
      [
        { ...withoutRoot, KMS_PKCS11_KEY_LABEL: 'root', KMS_PKCS11_TOKEN_LABEL: 'rampart' },
        'KMS_PKCS11_LIBRARY',
        /required/,
      ],
      [
        { ...withoutRoot, KMS_PKCS11_KEY_LABEL: 'root', KMS_PKCS11_LIBRARY: '/x.so' },
        'KMS_PKCS11_TOKEN_LABEL',
        /exactly one of KMS_PKCS11_TOKEN_LABEL or KMS_PKCS11_SLOT/,
      ],
      [
        { ...env, KMS_PKCS11_LIBRARY: '/x.so' },
        'KMS_PKCS11_LIBRARY',
        /without KMS_PKCS11_KEY_LABEL/,
      ],
    ];
    expect(rootKeyFile).toBeDefined();
    for (const [candidate, variable, message] of cases) {
      const attempt = startService(keyManagementService, { env: candidate });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      const issues = await attempt.catch((error: ConfigError) => error.issues);
      expect(issues).toContainEqual({ variable, message: expect.stringMatching(message) });
    }
  });
});
