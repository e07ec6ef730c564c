import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyManagementService } from '@rampart/key-management';
import { startService, type RunningService } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';

/** The real key-management service, on its own database with a fresh root key file. */
export interface KeyManagementUnderTest {
  readonly service: RunningService;
  readonly database: TestDatabase;
  stop(): Promise<void>;
}

/**
 * Starts key-management for a test that pairs it with another service. `keys` are the test's
 * workload keys (they must include `key-management` and every caller).
 */
export async function startKeyManagement(keys: {
  keyFile(service: string): string;
  trustDir: string;
}): Promise<KeyManagementUnderTest> {
  const database = await createTestDatabase('key_management');
  const rootKeyFile = join(await mkdtemp(join(tmpdir(), 'rampart-test-kms-')), 'root.key');
  await writeFile(rootKeyFile, randomBytes(32), { mode: 0o600 });
  let service: RunningService;
  try {
    service = await startService(keyManagementService, {
      env: {
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: database.url,
        DATABASE_SCHEMA: database.schema,
        WORKLOAD_KEY_FILE: keys.keyFile('key-management'),
        WORKLOAD_TRUST_DIR: keys.trustDir,
        KMS_ROOT_KEY_FILE: rootKeyFile,
      },
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    service,
    database,
    async stop() {
      await service.stop();
      await database.drop();
    },
  };
}
