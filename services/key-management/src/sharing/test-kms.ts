import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from '@rampart/platform';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestDatabase,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { keyManagementService } from '../key-management.service.js';

/** The real key-management service for sharing tests: its own database, trusting a token issuer. */
export interface KmsUnderTest {
  service: RunningService;
  database: TestDatabase;
  /** An access token for `user`, with the sharing scope unless told otherwise. */
  tokenFor(user: string, scope?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startKmsForSharing(): Promise<KmsUnderTest> {
  const database = await createTestDatabase('key_management');
  let issuer: TestTokenIssuer | undefined;
  let service: RunningService | undefined;
  const stop = async () => {
    await service?.stop();
    await issuer?.close();
    await database.drop();
  };
  try {
    issuer = await startTestTokenIssuer();
    const keys = await createTestWorkloadKeys(['key-management']);
    const rootKeyFile = join(await mkdtemp(join(tmpdir(), 'rampart-kms-')), 'root.key');
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- a folder this test just made
    await writeFile(rootKeyFile, randomBytes(32), { mode: 0o600 });
    service = await startService(keyManagementService, {
      env: {
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: database.url,
        DATABASE_SCHEMA: database.schema,
        WORKLOAD_KEY_FILE: keys.keyFile('key-management'),
        WORKLOAD_TRUST_DIR: keys.trustDir,
        KMS_ROOT_KEY_FILE: rootKeyFile,
        ...issuer.env(),
      },
    });
    const tokens = issuer;
    return {
      service,
      database,
      tokenFor: (user, scope = 'kms.share') =>
        tokens.mint({ sub: user, scope, audience: 'urn:rampart:key-management' }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
