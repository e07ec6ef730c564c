import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startService, type RunningService } from '@rampart/platform';
import { Module } from '@nestjs/common';
import { KeyManagementModule } from '../app.module.js';
import { keyManagementService } from '../key-management.service.js';
import { b64, createKmsFixture, type KmsFixture } from '../testing/kms-harness.js';
import { FileRootKey, RootKey } from './root-key.js';
import { RootOfTrustModule } from './root-of-trust.module.js';
import { WrappedTables } from './wrapped-tables.js';

/** The built service: the crash test kills a real process mid-rotation. */
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

const noteBinding = (row: Readonly<Record<string, unknown>>) =>
  `rampart.test.note:${String(row['tenant'])}:${String(row['id'])}`;

/** Another module storing root-wrapped values, registered as docs/architecture/key-management.md says. */
@Module({ imports: [KeyManagementModule, RootOfTrustModule] })
class NotesModule {
  constructor(tables: WrappedTables) {
    tables.register({
      table: 'sealed_notes',
      keyColumns: ['tenant', 'id'],
      materialColumn: 'sealed',
      binding: noteBinding,
    });
  }
}
const withNotes = { ...keyManagementService, module: NotesModule };
const until = async (condition: () => boolean | Promise<boolean>, what: string, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
};

interface Stored {
  key: string;
  ciphertext: string;
  plaintext: string;
}

describe('root key rotation (real PostgreSQL, a real process killed mid-way)', () => {
  let kms: KmsFixture;
  let env: Record<string, string>;
  let rootA: string;
  let rootB: string;
  const stored: Stored[] = [];

  const call = (service: { url: string }, method: 'GET' | 'POST', path: string, body?: unknown) =>
    kms.request(service, method, path, body, { workload: 'identity' });

  type VersionRow = {
    key_name: string;
    version: number;
    wrapped_by: string;
    wrapped_material: Buffer;
  };
  const VERSIONS = `SELECT key_name, version, wrapped_by, wrapped_material FROM key_versions ORDER BY key_name, version`;

  /** The rows as the crash left them, read without starting a service (which would resume). */
  async function versionsAtRest(): Promise<VersionRow[]> {
    const client = new pg.Client({ connectionString: kms.database.url });
    await client.connect();
    try {
      await client.query(`SET search_path TO ${kms.database.schema}`);
      return (await client.query<VersionRow>(VERSIONS)).rows;
    } finally {
      await client.end();
    }
  }

  const wrappedBy = (service: RunningService) => service.dataSource!.query<VersionRow[]>(VERSIONS);

  async function decryptsAll(service: RunningService): Promise<void> {
    for (const item of stored) {
      const opened = await call(service, 'POST', `/kms/v1/keys/${item.key}:decrypt`, {
        ciphertext: item.ciphertext,
      });
      expect(opened).toMatchObject({ status: 200, body: { plaintext: b64(item.plaintext) } });
    }
  }

  beforeAll(async () => {
    // No KMS_ROOT_KEY_FILE in env: each start names the root keys it runs with.
    kms = await createKmsFixture({}, { schema: 'kms_root_rotation', rootKeyFile: null });
    env = kms.env;
    rootA = await kms.newRootKeyFile('root-a.key');
    rootB = await kms.newRootKeyFile('root-b.key');
  });

  afterAll(async () => {
    await kms?.close();
  });

  it('keeps keys under root A: three versions of twelve keys, a ciphertext from each', async () => {
    const service = await startService(keyManagementService, {
      env: { ...env, KMS_ROOT_KEY_FILE: rootA },
    });
    try {
      for (let index = 0; index < 12; index += 1) {
        const key = `rotation-${index}`;
        expect(
          (await call(service, 'POST', '/kms/v1/keys', { name: key, purpose: 'ENCRYPT_DECRYPT' }))
            .status,
        ).toBe(201);
        for (let version = 1; version <= 3; version += 1) {
          if (version > 1) await call(service, 'POST', `/kms/v1/keys/${key}:rotate`);
          const plaintext = `${key} v${version}`;
          const sealed = await call(service, 'POST', `/kms/v1/keys/${key}:encrypt`, {
            plaintext: b64(plaintext),
          });
          stored.push({ key, plaintext, ciphertext: sealed.body['ciphertext'] as string });
        }
      }
      const root = await call(service, 'GET', '/kms/v1/root');
      // 36 key versions and identity's first two token-signing keys.
      expect(root).toMatchObject({
        status: 200,
        body: { rewrapped: 38, remaining: 0, previousRootKeyIds: [] },
      });
      const rows = await wrappedBy(service);
      expect(new Set(rows.map((row) => row.wrapped_by))).toEqual(new Set([root.body['rootKeyId']]));
    } finally {
      await service.stop();
    }
  });

  it('rotates to root B, survives a crash mid-way, resumes, and no longer needs root A', async () => {
    expect(existsSync(MAIN)).toBe(true); // built by `nx run-many -t build` before the tests
    // A real process with root B, slowed down so it can be killed between batches.
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '',
        ...env,
        LOG_LEVEL: 'info',
        KMS_ROOT_KEY_FILE: rootB,
        KMS_PREVIOUS_ROOT_KEY_FILES: rootA,
        KMS_ROOT_ROTATION_BATCH_SIZE: '2',
        KMS_ROOT_ROTATION_BATCH_DELAY_MS: '150',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((done) => child.once('exit', done));
    try {
      await until(() => {
        if (child.exitCode !== null) throw new Error(`the service exited early:\n${output}`);
        return (output.match(/root key rotation progress/g)?.length ?? 0) >= 3;
      }, 'three rotation batches');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(output).toContain('root key rotation started');
    expect(output).not.toContain('root key rotation complete');

    const afterCrash = await versionsAtRest();
    const service = await startService(keyManagementService, {
      env: {
        ...env,
        KMS_ROOT_KEY_FILE: rootB,
        KMS_PREVIOUS_ROOT_KEY_FILES: rootA,
        KMS_ROOT_ROTATION_BATCH_SIZE: '5',
      },
    });
    let rootBId: string;
    try {
      rootBId = (await call(service, 'GET', '/kms/v1/root')).body['rootKeyId'] as string;
      const doneBeforeCrash = afterCrash.filter((row) => row.wrapped_by === rootBId);
      // Committed batches survived the crash, and the rest was still under root A.
      expect(doneBeforeCrash.length).toBeGreaterThanOrEqual(4);
      expect(doneBeforeCrash.length).toBeLessThan(36);

      await until(
        async () => (await call(service, 'GET', '/kms/v1/root')).body['remaining'] === 0,
        'rotation to finish',
      );
      expect(await call(service, 'GET', '/kms/v1/root')).toMatchObject({
        status: 200,
        body: {
          rootKeyId: rootBId,
          rewrapped: 38,
          remaining: 0,
          tables: [
            { table: 'key_versions', rewrapped: 36, remaining: 0 },
            { table: 'token_signing_keys', rewrapped: 2, remaining: 0 },
          ],
        },
      });
      const after = await wrappedBy(service);
      expect(after.every((row) => row.wrapped_by === rootBId)).toBe(true);
      // Resumed, not restarted: rows rewrapped before the crash were not rewrapped again.
      for (const row of doneBeforeCrash) {
        const now = after.find(
          (candidate) => candidate.key_name === row.key_name && candidate.version === row.version,
        );
        expect(now?.wrapped_material.equals(row.wrapped_material)).toBe(true);
      }
      await decryptsAll(service);
    } finally {
      await service.stop();
    }

    // Everything is under root B now: root A can be retired.
    const rootBOnly = await startService(keyManagementService, {
      env: { ...env, KMS_ROOT_KEY_FILE: rootB },
    });
    try {
      expect((await call(rootBOnly, 'GET', '/kms/v1/root')).body).toMatchObject({
        rootKeyId: rootBId,
        previousRootKeyIds: [],
        remaining: 0,
      });
      await decryptsAll(rootBOnly);
    } finally {
      await rootBOnly.stop();
    }

    // And root A alone opens none of it any more.
    const rootAOnly = await startService(keyManagementService, {
      env: { ...env, KMS_ROOT_KEY_FILE: rootA },
    });
    try {
      const refused = await call(rootAOnly, 'POST', `/kms/v1/keys/${stored[0]!.key}:decrypt`, {
        ciphertext: stored[0]!.ciphertext,
      });
      expect(refused.status).toBe(500);
      expect(refused.body['plaintext']).toBeUndefined();
      // Its rotation job names the root it lacks instead of touching the rows.
      expect((await call(rootAOnly, 'GET', '/kms/v1/root')).body).toMatchObject({
        remaining: 38,
        missingRootKeyIds: [rootBId],
      });
      const rows = await wrappedBy(rootAOnly);
      expect(rows.every((row) => row.wrapped_by === rootBId)).toBe(true);
    } finally {
      await rootAOnly.stop();
    }
  });

  it('rotates the tables other modules register, with their own key columns and bindings', async () => {
    const rootC = await kms.newRootKeyFile('root-c.key');
    const notes = new Map<string, Buffer>();
    // The table comes with the other module's migration; here, plain SQL before that module runs.
    const before = await startService(keyManagementService, {
      env: { ...env, KMS_ROOT_KEY_FILE: rootB },
    });
    try {
      await before.dataSource!.query(
        `CREATE TABLE sealed_notes (tenant text, id int, sealed bytea, wrapped_by text, PRIMARY KEY (tenant, id))`,
      );
      const rootKey = before.app.get(RootKey);
      for (const tenant of ['acme', 'globex']) {
        for (let id = 1; id <= 4; id += 1) {
          const material = randomBytes(32);
          notes.set(`${tenant}:${id}`, material);
          await before.dataSource!.query(`INSERT INTO sealed_notes VALUES ($1, $2, $3, $4)`, [
            tenant,
            id,
            await rootKey.wrap(material, noteBinding({ tenant, id })),
            rootKey.id,
          ]);
        }
      }
      // Nothing wrapped here: nothing to rewrap.
      await before.dataSource!.query(`INSERT INTO sealed_notes VALUES ('acme', 99, NULL, NULL)`);
    } finally {
      await before.stop();
    }

    const service = await startService(withNotes, {
      env: {
        ...env,
        KMS_ROOT_KEY_FILE: rootC,
        KMS_PREVIOUS_ROOT_KEY_FILES: rootB,
        KMS_ROOT_ROTATION_BATCH_SIZE: '3',
      },
    });
    try {
      await until(
        async () => (await call(service, 'GET', '/kms/v1/root')).body['remaining'] === 0,
        'rotation to root C',
      );
      const root = await call(service, 'GET', '/kms/v1/root');
      expect(root.body['tables']).toEqual([
        { table: 'key_versions', rewrapped: 36, remaining: 0 },
        { table: 'sealed_notes', rewrapped: 8, remaining: 0 },
        { table: 'token_signing_keys', rewrapped: 2, remaining: 0 },
      ]);
      const rows = await service.dataSource!.query<
        { tenant: string; id: number; sealed: Buffer; wrapped_by: string }[]
      >(`SELECT tenant, id, sealed, wrapped_by FROM sealed_notes WHERE sealed IS NOT NULL`);
      const rootCKey = await FileRootKey.open(rootC);
      for (const row of rows) {
        expect(row.wrapped_by).toBe(rootCKey.id);
        // Rewrapped under the same binding, by root C alone.
        expect(await rootCKey.unwrap(row.sealed, noteBinding(row))).toEqual(
          notes.get(`${row.tenant}:${row.id}`),
        );
      }
      expect(rows).toHaveLength(8);
      await decryptsAll(service);
    } finally {
      await service.stop();
    }
  });
});
