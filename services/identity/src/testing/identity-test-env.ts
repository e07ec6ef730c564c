import { createTestWorkloadKeys, type TestDatabase } from '@rampart/platform/testing-support';

/**
 * The environment that boots the identity service on a test database: its own workload key, the
 * database's URL and schema, an ephemeral port and silent logs; `extra` adds or overrides.
 */
export async function identityTestEnv(
  database: TestDatabase,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const keys = await createTestWorkloadKeys(['identity']);
  return {
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: database.schema,
    WORKLOAD_KEY_FILE: keys.keyFile('identity'),
    WORKLOAD_TRUST_DIR: keys.trustDir,
    ...extra,
  };
}
