import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Handle, PKCS11, Template } from 'pkcs11js';
import { startService, type RunningService } from '@rampart/platform';
import { keyManagementService } from '../key-management.service.js';
import { b64, createKmsFixture, type KmsFixture } from '../testing/kms-harness.js';
import { Pkcs11RootKey } from './pkcs11-root-key.js';
import { FileRootKey, versionBinding } from './root-key.js';

type Pkcs11js = typeof import('pkcs11js');

/** Debian's softhsm2 package; SOFTHSM2_LIBRARY points elsewhere. */
const LIBRARY =
  process.env['SOFTHSM2_LIBRARY'] ??
  [
    '/usr/lib/softhsm/libsofthsm2.so',
    '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
    '/usr/local/lib/softhsm/libsofthsm2.so',
  ].find((path) => existsSync(path));

function softHsmMissing(): string | undefined {
  if (!LIBRARY || !existsSync(LIBRARY))
    return `libsofthsm2.so not found (${LIBRARY ?? 'searched'})`;
  if (spawnSync('softhsm2-util', ['--version']).error) return 'softhsm2-util not found';
  return undefined;
}

/**
 * `describe` for suites that need SoftHSM2. Missing outside CI, the suite is reported as skipped
 * with the reason in its name; under CI (.ci/run installs softhsm2) it fails instead.
 */
function describeWithSoftHsm(name: string, suite: (library: string) => void): void {
  const missing = softHsmMissing();
  if (!missing) {
    describe(name, () => suite(LIBRARY!));
  } else if (process.env['CI'] === 'true') {
    describe(name, () => {
      it('needs SoftHSM2', () => {
        throw new Error(`SoftHSM2 is required under CI (apt-get install softhsm2): ${missing}`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${missing}; apt-get install softhsm2]`, () => suite(''));
  }
}

const TOKEN = 'rampart-test';
const PIN = '246810';

describeWithSoftHsm('PKCS#11 root key (SoftHSM2 token, real PostgreSQL)', (library) => {
  let api: Pkcs11js;
  let pkcs11: PKCS11;
  let slot: Handle;
  let kms: KmsFixture;
  let env: Record<string, string>;
  let folder: string;
  const imported = randomBytes(32);

  const tokenEnv = (keyLabel: string) => ({
    KMS_PKCS11_LIBRARY: library,
    KMS_PKCS11_TOKEN_LABEL: TOKEN,
    KMS_PKCS11_PIN_FILE: join(folder, 'pin'),
    KMS_PKCS11_KEY_LABEL: keyLabel,
  });

  const call = (service: RunningService, path: string, body?: unknown) =>
    kms.request(service, body === undefined ? 'GET' : 'POST', path, body, { workload: 'identity' });

  /** A session logged in as the user (login is per process: another may have logged in already). */
  function userSession(): Handle {
    const session = pkcs11.C_OpenSession(slot, api.CKF_SERIAL_SESSION | api.CKF_RW_SESSION);
    try {
      pkcs11.C_Login(session, api.CKU_USER, PIN);
    } catch (error) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test((error as Error).message)) throw error;
    }
    return session;
  }

  function aesKey(label: string, extra: Template): Template {
    return [
      { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
      { type: api.CKA_KEY_TYPE, value: api.CKK_AES },
      { type: api.CKA_TOKEN, value: true },
      { type: api.CKA_PRIVATE, value: true },
      { type: api.CKA_ENCRYPT, value: true },
      { type: api.CKA_DECRYPT, value: true },
      { type: api.CKA_LABEL, value: label },
      ...extra,
    ];
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'rampart-softhsm-'));
    const conf = join(folder, 'softhsm2.conf');
    await writeFile(
      conf,
      `directories.tokendir = ${folder}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    // SoftHSM reads SOFTHSM2_CONF from the process environment when the library is initialised
    // (below). Jest gives tests a copy of process.env, which native code never sees;
    // process.loadEnvFile sets the real one.
    const envFile = join(folder, 'softhsm.env');
    await writeFile(envFile, `SOFTHSM2_CONF=${conf}\n`);
    process.loadEnvFile(envFile);
    await promisify(execFile)(
      'softhsm2-util',
      ['--init-token', '--free', '--label', TOKEN, '--pin', PIN, '--so-pin', '135791'],
      { env: { ...process.env, SOFTHSM2_CONF: conf } },
    );
    await writeFile(join(folder, 'pin'), `${PIN}\n`, { mode: 0o600 });

    // The keys, made the way an operator would with any PKCS#11 tool.
    api = (await import('pkcs11js')).default;
    pkcs11 = new api.PKCS11();
    pkcs11.load(library);
    pkcs11.C_Initialize({ flags: api.CKF_OS_LOCKING_OK });
    slot = pkcs11
      .C_GetSlotList(true)
      .find((candidate) => pkcs11.C_GetTokenInfo(candidate).label.trim() === TOKEN)!;
    const session = userSession();
    const generated = [
      { type: api.CKA_VALUE_LEN, value: 32 },
      { type: api.CKA_SENSITIVE, value: true },
      { type: api.CKA_EXTRACTABLE, value: false },
    ];
    const generate = { mechanism: api.CKM_AES_KEY_GEN };
    pkcs11.C_GenerateKey(session, generate, aesKey('root-a', generated));
    pkcs11.C_GenerateKey(session, generate, aesKey('root-b', generated));
    pkcs11.C_GenerateKey(
      session,
      generate,
      aesKey('extractable', [
        { type: api.CKA_VALUE_LEN, value: 32 },
        { type: api.CKA_SENSITIVE, value: true },
        { type: api.CKA_EXTRACTABLE, value: true },
      ]),
    );
    pkcs11.C_GenerateKey(
      session,
      generate,
      aesKey('wrapper', [
        { type: api.CKA_VALUE_LEN, value: 32 },
        { type: api.CKA_WRAP, value: true },
      ]),
    );
    // A file root key moved into the token: same material, so the same id.
    pkcs11.C_CreateObject(
      session,
      aesKey('imported', [
        { type: api.CKA_VALUE, value: imported },
        { type: api.CKA_SENSITIVE, value: true },
        { type: api.CKA_EXTRACTABLE, value: false },
      ]),
    );
    // Log out: the service logs in with the PIN it is given.
    pkcs11.C_Logout(session);
    pkcs11.C_CloseSession(session);

    // No KMS_ROOT_KEY_FILE in env: each start names its root key source.
    kms = await createKmsFixture({}, { schema: 'kms_pkcs11', rootKeyFile: null });
    env = kms.env;
  });

  afterAll(async () => {
    pkcs11?.C_Finalize();
    pkcs11?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
    await kms?.close();
  });

  it('refuses a wrong PIN, a loose PIN file, a missing token or key, and an extractable key', async () => {
    await writeFile(join(folder, 'wrong-pin'), '999999', { mode: 0o600 });
    await writeFile(join(folder, 'loose-pin'), PIN, { mode: 0o644 });
    await chmod(join(folder, 'loose-pin'), 0o644);
    const attempts: [Record<string, string>, RegExp][] = [
      [{ KMS_PKCS11_PIN_FILE: join(folder, 'wrong-pin') }, /could not log in: CKR_PIN_INCORRECT/],
      [{ KMS_PKCS11_PIN_FILE: join(folder, 'loose-pin') }, /loose-pin is readable by others/],
      [{ KMS_PKCS11_TOKEN_LABEL: 'elsewhere' }, /no token labelled "elsewhere"/],
      [{ KMS_PKCS11_KEY_LABEL: 'missing' }, /no secret key labelled "missing"/],
      [{ KMS_PKCS11_KEY_LABEL: 'extractable' }, /cannot be a root key: extractable/],
      [{ KMS_PKCS11_KEY_LABEL: 'wrapper' }, /cannot be a root key: not sensitive/],
      [{ KMS_PKCS11_LIBRARY: join(folder, 'none.so') }, /could not load/],
    ];
    for (const [overrides, reason] of attempts) {
      await expect(
        startService(keyManagementService, {
          env: { ...env, ...tokenEnv('root-a'), ...overrides },
        }),
      ).rejects.toThrow(reason);
    }
  });

  it('moves keys from a file root into the token, then round-trips key versions inside it', async () => {
    const fileRoot = join(folder, 'file-root.key');
    await writeFile(fileRoot, randomBytes(32), { mode: 0o600 });
    const before = await startService(keyManagementService, {
      env: { ...env, KMS_ROOT_KEY_FILE: fileRoot },
    });
    let old: string;
    try {
      await call(before, '/kms/v1/keys', { name: 'orders', purpose: 'ENCRYPT_DECRYPT' });
      old = (await call(before, '/kms/v1/keys/orders:encrypt', { plaintext: b64('from file') }))
        .body['ciphertext'] as string;
    } finally {
      await before.stop();
    }

    const service = await startService(keyManagementService, {
      env: { ...env, ...tokenEnv('root-a'), KMS_PREVIOUS_ROOT_KEY_FILES: fileRoot },
    });
    try {
      const deadline = Date.now() + 20_000;
      let root = await call(service, '/kms/v1/root');
      while (root.body['remaining'] !== 0 && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 50));
        root = await call(service, '/kms/v1/root');
      }
      // The key version, and identity's first two token-signing keys.
      expect(root.body).toMatchObject({ rewrapped: 3, remaining: 0 });
      const tokenRootId = root.body['rootKeyId'] as string;

      // Parallel requests share the token's session pool.
      const created = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          call(service, '/kms/v1/keys', { name: `hsm-${index}`, purpose: 'ENCRYPT_DECRYPT' }),
        ),
      );
      expect(created.map((answer) => answer.status)).toEqual(Array(12).fill(201));
      const sealed = await call(service, '/kms/v1/keys/hsm-3:encrypt', {
        plaintext: b64('inside the token'),
        associatedData: b64('ctx'),
      });
      expect(sealed.status).toBe(200);
      const rows = await service.dataSource!.query<{ wrapped_by: string; length: number }[]>(
        `SELECT wrapped_by, length(wrapped_material) AS length FROM key_versions`,
      );
      expect(rows).toHaveLength(13);
      for (const row of rows) expect(row).toEqual({ wrapped_by: tokenRootId, length: 60 });

      // A fresh replica with the token only: every version unwraps inside the token.
      const replica = await startService(keyManagementService, {
        env: { ...env, ...tokenEnv('root-a') },
      });
      try {
        expect(
          await call(replica, '/kms/v1/keys/hsm-3:decrypt', {
            ciphertext: sealed.body['ciphertext'],
            associatedData: b64('ctx'),
          }),
        ).toMatchObject({ status: 200, body: { plaintext: b64('inside the token') } });
        expect(
          await call(replica, '/kms/v1/keys/orders:decrypt', { ciphertext: old }),
        ).toMatchObject({ status: 200, body: { plaintext: b64('from file') } });
      } finally {
        await replica.stop();
      }
    } finally {
      await service.stop();
    }
  });

  it('wraps with AES-GCM in the token, bound to the key version, compatible with the file key', async () => {
    const options = { library, tokenLabel: TOKEN, pin: PIN };
    const tokenKey = await Pkcs11RootKey.open({ ...options, keyLabel: 'imported' });
    const otherKey = await Pkcs11RootKey.open({ ...options, keyLabel: 'root-b' });
    const bySlot = await Pkcs11RootKey.open({
      library,
      slot: Number(slot.readBigUInt64LE()),
      pin: PIN,
      keyLabel: 'imported',
    });
    const path = join(folder, 'imported.key');
    await writeFile(path, imported, { mode: 0o600 });
    const fileKey = await FileRootKey.open(path);
    try {
      // The id depends on the material only: file, token by label, token by slot agree.
      expect(tokenKey.id).toBe(fileKey.id);
      expect(bySlot.id).toBe(tokenKey.id);
      expect(otherKey.id).not.toBe(tokenKey.id);

      const material = randomBytes(32);
      const binding = versionBinding('orders', 7);
      const inToken = await tokenKey.wrap(material, binding);
      expect(inToken).toHaveLength(60);
      expect(await fileKey.unwrap(inToken, binding)).toEqual(material);
      expect(await tokenKey.unwrap(await fileKey.wrap(material, binding), binding)).toEqual(
        material,
      );
      for (const wrong of [versionBinding('orders', 8), versionBinding('invoices', 7)]) {
        await expect(tokenKey.unwrap(inToken, wrong)).rejects.toThrow(/CKR_/);
      }
      await expect(otherKey.unwrap(inToken, binding)).rejects.toThrow(/CKR_/);
      // A failed operation does not poison the session pool.
      expect(await tokenKey.unwrap(inToken, binding)).toEqual(material);
    } finally {
      await Promise.all([tokenKey.close(), otherKey.close(), bySlot.close(), fileKey.close()]);
    }
  });

  it('keeps the root key in the token: its value cannot be read or wrapped out', () => {
    const session = userSession();
    try {
      pkcs11.C_FindObjectsInit(session, [
        { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
        { type: api.CKA_LABEL, value: 'root-a' },
      ]);
      const [key] = pkcs11.C_FindObjects(session, 1);
      pkcs11.C_FindObjectsFinal(session);
      pkcs11.C_FindObjectsInit(session, [{ type: api.CKA_LABEL, value: 'wrapper' }]);
      const [wrapper] = pkcs11.C_FindObjects(session, 1);
      pkcs11.C_FindObjectsFinal(session);
      const [extractable, sensitive] = pkcs11.C_GetAttributeValue(session, key!, [
        { type: api.CKA_EXTRACTABLE },
        { type: api.CKA_SENSITIVE },
      ]);
      expect(extractable!.value).toEqual(Buffer.from([0]));
      expect(sensitive!.value).toEqual(Buffer.from([1]));
      expect(() => pkcs11.C_GetAttributeValue(session, key!, [{ type: api.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      );
      expect(() =>
        pkcs11.C_WrapKey(
          session,
          { mechanism: api.CKM_AES_KEY_WRAP },
          wrapper!,
          key!,
          Buffer.alloc(64),
        ),
      ).toThrow(/CKR_KEY_UNEXTRACTABLE/);
    } finally {
      pkcs11.C_CloseSession(session);
    }
  });
});
