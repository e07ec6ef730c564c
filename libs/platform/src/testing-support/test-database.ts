import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  ensureDatabase,
  provisionServiceDatabase,
  withCredentials,
} from '../database/provisioning.js';

export interface TestDatabase {
  /** URL of the service's own least-privilege role. */
  url: string;
  /** Superuser URL of the same database (for assertions that bypass the service). */
  adminUrl: string;
  schema: string;
  role: string;
  drop(): Promise<void>;
}

/** The run's PostgreSQL admin URL, from the global setup. */
export function testDatabaseAdminUrl(): string {
  const url = process.env['RAMPART_TEST_DATABASE_URL'];
  if (!url)
    throw new Error(
      'RAMPART_TEST_DATABASE_URL is not set: run tests through the workspace Jest config',
    );
  return url;
}

/**
 * A fresh database for one test file, with the service's schema and role provisioned exactly as
 * in all-in-one mode, so tests run with the same privileges as the service.
 */
export async function createTestDatabase(schema: string): Promise<TestDatabase> {
  const adminBase = testDatabaseAdminUrl();
  const name = `t_${schema}_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(adminBase, name);
  const adminUrl = withCredentials(adminBase, {
    user: decodeURIComponent(new URL(adminBase).username),
    password: decodeURIComponent(new URL(adminBase).password),
    database: name,
  });
  const role = `${name}_role`;
  const provisioned = await provisionServiceDatabase(adminUrl, name, { schema, role });
  return {
    url: withCredentials(adminUrl, { user: role, password: provisioned.password }),
    adminUrl,
    schema,
    role,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminBase });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.query(`DROP ROLE IF EXISTS "${role}"`);
      } finally {
        await client.end();
      }
    },
  };
}
