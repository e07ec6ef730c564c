import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadWorkloadSigner,
  startService,
  WORKLOAD_ASSERTION_HEADER,
  type RunningService,
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
}

/** How a test calls the service: as a workload (default `consent`) or with an access token. */
export type KmsCaller = { workload: string } | { token: string } | 'anonymous';

export interface KmsHarness {
  readonly service: RunningService;
  readonly env: Record<string, string>;
  readonly issuer: TestTokenIssuer;
  call(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    path: string,
    body?: unknown,
    caller?: KmsCaller,
  ): Promise<KmsAnswer>;
  /** A token from the test issuer for the key-management audience. */
  token(sub: string, scope?: string): Promise<string>;
  /** Rows of the service's own schema. */
  query<T>(sql: string, parameters?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/**
 * The key-management service started for real: its own PostgreSQL database, a root key file,
 * workload keys for every platform service, and a test token issuer it trusts.
 */
export async function startKms(extraEnv: Record<string, string> = {}): Promise<KmsHarness> {
  const database: TestDatabase = await createTestDatabase('key_management');
  const issuer = await startTestTokenIssuer();
  const services = ['key-management', 'identity', 'consent', 'audit', 'authorization', 'gateway'];
  const keys = await createTestWorkloadKeys(services);
  const folder = await mkdtemp(join(tmpdir(), 'rampart-kms-'));
  const rootKeyFile = join(folder, 'root.key');
  await writeFile(rootKeyFile, randomBytes(32), { mode: 0o600 });
  const env = {
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: database.schema,
    WORKLOAD_KEY_FILE: keys.keyFile('key-management'),
    WORKLOAD_TRUST_DIR: keys.trustDir,
    KMS_ROOT_KEY_FILE: rootKeyFile,
    ...issuer.env(),
    ...extraEnv,
  };
  const service = await startService(keyManagementService, { env });
  const signers = new Map(
    await Promise.all(
      services.map(
        async (name) => [name, await loadWorkloadSigner(name, keys.keyFile(name))] as const,
      ),
    ),
  );
  return {
    service,
    env,
    issuer,
    async call(method, path, body, caller = { workload: 'consent' }) {
      const headers: Record<string, string> = {};
      if (caller !== 'anonymous' && 'workload' in caller) {
        headers[WORKLOAD_ASSERTION_HEADER] = await signers
          .get(caller.workload)!
          .assertionFor('key-management');
      } else if (caller !== 'anonymous') {
        headers['authorization'] = `Bearer ${caller.token}`;
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${service.url}${path}`, {
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
      };
    },
    token: (sub, scope) =>
      issuer.mint({ sub, audience: 'urn:rampart:key-management', ...(scope ? { scope } : {}) }),
    query: (sql, parameters) => service.dataSource!.query(sql, parameters),
    async stop() {
      await service.stop();
      await database.drop();
      await issuer.close();
    },
  };
}
