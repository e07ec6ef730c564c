import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadWorkloadSigner,
  startService,
  WORKLOAD_ASSERTION_HEADER,
  type RunningService,
  type WorkloadSigner,
} from '@rampart/platform';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestDatabase,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { keyManagementService } from '../key-management.service.js';

export interface KmsAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  /** The body as sent, for tests that look at the exact bytes. */
  text: string;
}

/** How a test calls the service: as a workload (default `consent`) or with an access token. */
export type KmsMethod = 'GET' | 'POST' | 'PATCH' | 'PUT';

export type KmsCaller = { workload: string } | { token: string } | 'anonymous';

/** The platform services that get workload keys (and a signer) in every fixture. */
export const KMS_TEST_WORKLOADS = [
  'key-management',
  'identity',
  'consent',
  'audit',
  'authorization',
  'gateway',
] as const;

export interface KmsFixtureOptions {
  /** The database schema name (default `key_management`). */
  schema?: string;
  /**
   * The root key file in `env.KMS_ROOT_KEY_FILE`: by default a fresh random one; `null` leaves the
   * variable out, for tests that choose the root key source per start (PKCS#11, rotation).
   */
  rootKeyFile?: string | null;
}

/**
 * What the key-management service needs to start, without starting it: its own PostgreSQL
 * database, workload keys for every platform service, a test token issuer it trusts and (unless
 * told otherwise) a root key file. Tests that start several instances, or start them with
 * different settings, share one fixture; `startKms` starts one instance on it.
 */
export interface KmsFixture {
  readonly database: TestDatabase;
  readonly issuer: TestTokenIssuer;
  readonly keys: Awaited<ReturnType<typeof createTestWorkloadKeys>>;
  /** A private temporary folder for the test's files. */
  readonly folder: string;
  /** The root key file in `env`, or undefined with `rootKeyFile: null`. */
  readonly rootKeyFile: string | undefined;
  /** The environment the service starts with. */
  readonly env: Record<string, string>;
  /** The workload signer of a platform service (one of KMS_TEST_WORKLOADS). */
  signer(name: string): WorkloadSigner;
  /**
   * Calls an instance started on this fixture (`startKms` passes its own; tests with several
   * instances pass the one they mean), by default as the `consent` workload.
   */
  request(
    target: { url: string },
    method: KmsMethod,
    path: string,
    body?: unknown,
    caller?: KmsCaller,
  ): Promise<KmsAnswer>;
  /** Writes a file into `folder` with `mode` (0600 unless told), whatever the umask. */
  secretFile(name: string, content: Buffer | string, mode?: number): Promise<string>;
  /** A new random 32-byte root key file in `folder`. */
  newRootKeyFile(name: string): Promise<string>;
  /** Drops the database and stops the issuer. */
  close(): Promise<void>;
}

export async function createKmsFixture(
  extraEnv: Record<string, string> = {},
  options: KmsFixtureOptions = {},
): Promise<KmsFixture> {
  const database = await createTestDatabase(options.schema ?? 'key_management');
  const issuer = await startTestTokenIssuer();
  const keys = await createTestWorkloadKeys(KMS_TEST_WORKLOADS);
  const folder = await mkdtemp(join(tmpdir(), 'rampart-kms-'));
  const secretFile = async (name: string, content: Buffer | string, mode = 0o600) => {
    const path = join(folder, name);
    await writeFile(path, content, { mode });
    await chmod(path, mode); // the umask may have narrowed it
    return path;
  };
  const newRootKeyFile = (name: string) => secretFile(name, randomBytes(32));
  const rootKeyFile =
    options.rootKeyFile === null
      ? undefined
      : (options.rootKeyFile ?? (await newRootKeyFile('root.key')));
  const env: Record<string, string> = {
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: database.schema,
    WORKLOAD_KEY_FILE: keys.keyFile('key-management'),
    WORKLOAD_TRUST_DIR: keys.trustDir,
    ...(rootKeyFile ? { KMS_ROOT_KEY_FILE: rootKeyFile } : {}),
    ...issuer.env(),
    ...extraEnv,
  };
  const signers = new Map<string, WorkloadSigner>(
    await Promise.all(
      KMS_TEST_WORKLOADS.map(
        async (name) =>
          [name as string, await loadWorkloadSigner(name, keys.keyFile(name))] as const,
      ),
    ),
  );
  const signer = (name: string) => {
    const found = signers.get(name);
    if (!found) throw new Error(`no workload keys for ${name} in the KMS fixture`);
    return found;
  };
  return {
    database,
    issuer,
    keys,
    folder,
    rootKeyFile,
    env,
    signer,
    async request(target, method, path, body, caller = { workload: 'consent' }) {
      const headers: Record<string, string> = {};
      if (caller !== 'anonymous' && 'workload' in caller) {
        headers[WORKLOAD_ASSERTION_HEADER] = await signer(caller.workload).assertionFor(
          'key-management',
        );
      } else if (caller !== 'anonymous') {
        headers['authorization'] = `Bearer ${caller.token}`;
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${target.url}${path}`, {
        method,
        headers,
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        headers: response.headers,
        text,
      };
    },
    secretFile,
    newRootKeyFile,
    async close() {
      await database.drop();
      await issuer.close();
    },
  };
}

export interface KmsHarness extends KmsFixture {
  readonly service: RunningService;
  call(method: KmsMethod, path: string, body?: unknown, caller?: KmsCaller): Promise<KmsAnswer>;
  /** A token from the test issuer for the key-management audience. */
  token(sub: string, scope?: string): Promise<string>;
  /** Rows of the service's own schema. */
  query<T>(sql: string, parameters?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/**
 * The key-management service started for real on a fresh `createKmsFixture`: its own PostgreSQL
 * database, a root key file, workload keys for every platform service, and a test token issuer
 * it trusts.
 */
export async function startKms(
  extraEnv: Record<string, string> = {},
  options: KmsFixtureOptions = {},
): Promise<KmsHarness> {
  const fixture = await createKmsFixture(extraEnv, options);
  let service: RunningService;
  try {
    service = await startService(keyManagementService, { env: fixture.env });
  } catch (error) {
    await fixture.close();
    throw error;
  }
  return {
    ...fixture,
    service,
    call: (method, path, body, caller) => fixture.request(service, method, path, body, caller),
    token: (sub, scope) =>
      fixture.issuer.mint({
        sub,
        audience: 'urn:rampart:key-management',
        ...(scope ? { scope } : {}),
      }),
    query: (sql, parameters) => service.dataSource!.query(sql, parameters),
    async stop() {
      await service.stop();
      await fixture.close();
    },
  };
}
