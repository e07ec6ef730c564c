import { startService, type RunningService } from '@rampart/platform';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestDatabase,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { auditService } from '../audit.service.js';

export interface AuditAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/**
 * The audit service started for real: its own PostgreSQL database (provisioned like all-in-one's),
 * workload keys, and a test token issuer it trusts for access tokens.
 */
export interface AuditHarness {
  readonly service: RunningService;
  readonly database: TestDatabase;
  readonly issuer: TestTokenIssuer;
  /** An access token for the audit audience. */
  token(sub: string, scope?: string): Promise<string>;
  /** A GET with an optional bearer token. */
  get(path: string, token?: string): Promise<AuditAnswer>;
  /** A statement as the PostgreSQL superuser, in the service's schema (bypasses the service). */
  admin<T extends pg.QueryResultRow>(sql: string, parameters?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/**
 * What the audit service needs around it, without the service: its own PostgreSQL database
 * (provisioned like all-in-one's), workload keys, a test token issuer, and the environment naming
 * them; for tests that run the service themselves (in a child process, or started again).
 */
export interface AuditEnvironment {
  readonly database: TestDatabase;
  readonly issuer: TestTokenIssuer;
  readonly env: Record<string, string>;
  /** A statement as the PostgreSQL superuser, in the service's schema (bypasses the service). */
  readonly admin: <T extends pg.QueryResultRow>(
    sql: string,
    parameters?: unknown[],
  ) => Promise<T[]>;
  close(): Promise<void>;
}

export async function createAuditEnvironment(
  extraEnv: Record<string, string> = {},
): Promise<AuditEnvironment> {
  const database = await createTestDatabase('audit');
  const issuer = await startTestTokenIssuer();
  const keys = await createTestWorkloadKeys(['audit', 'gateway']);
  return {
    database,
    issuer,
    env: {
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: database.schema,
      WORKLOAD_KEY_FILE: keys.keyFile('audit'),
      WORKLOAD_TRUST_DIR: keys.trustDir,
      ...issuer.env(),
      ...extraEnv,
    },
    admin: async <T extends pg.QueryResultRow>(sql: string, parameters?: unknown[]) => {
      const client = new pg.Client({
        connectionString: database.adminUrl,
        options: `-c search_path=${database.schema}`,
      });
      await client.connect();
      try {
        return (await client.query<T>(sql, parameters)).rows;
      } finally {
        await client.end();
      }
    },
    async close() {
      await issuer.close();
      await database.drop();
    },
  };
}

/**
 * Starts the service and waits until it has audited its own start (outbox, relay, in-process
 * transport, its own consumer), so a test begins with the log settled: one record, that event.
 */
export async function startAudit(extraEnv: Record<string, string> = {}): Promise<AuditHarness> {
  const environment = await createAuditEnvironment(extraEnv);
  const { database, issuer } = environment;
  let service: RunningService;
  try {
    service = await startService(auditService, { env: environment.env });
  } catch (error) {
    await environment.close();
    throw error;
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const recorded = await service.dataSource!.query<unknown[]>(
      `SELECT 1 FROM audit_records WHERE event_type = 'rampart.audit.lifecycle.started'`,
    );
    if (recorded.length > 0) break;
    if (Date.now() > deadline) {
      await service.stop();
      await environment.close();
      throw new Error('the audit service did not record its own start within 10 s');
    }
    await sleep(25);
  }
  return {
    service,
    database,
    issuer,
    token: (sub, scope) =>
      issuer.mint({ sub, audience: 'urn:rampart:audit', ...(scope ? { scope } : {}) }),
    async get(path, token) {
      const response = await fetch(`${service.url}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        headers: response.headers,
      };
    },
    admin: environment.admin,
    async stop() {
      await service.stop();
      await environment.close();
    },
  };
}
