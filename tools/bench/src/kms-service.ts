/**
 * The real key-management service the KMS benchmarks run against: an embedded PostgreSQL, the
 * service's own database, workload keys, and a fresh random root key file. One place, so every
 * benchmark measures the same set-up.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyManagementService } from '@rampart/key-management';
import {
  loadWorkloadSigner,
  startService,
  type RunningService,
  type WorkloadSigner,
} from '@rampart/platform';
import { createTestDatabase, createTestWorkloadKeys } from '@rampart/platform/testing-support';
import { startTestPostgres } from '@rampart/testing';

export interface BenchKms {
  readonly service: RunningService;
  /** The signer of a workload named in `workloads`, to call the service as that workload. */
  readonly signer: (workload: string) => Promise<WorkloadSigner>;
  /** Stops the service and drops its database and PostgreSQL. */
  readonly stop: () => Promise<void>;
}

export async function startBenchKms(
  options: { workloads?: readonly string[]; env?: Record<string, string> } = {},
): Promise<BenchKms> {
  const postgres = await startTestPostgres();
  process.env['RAMPART_TEST_DATABASE_URL'] = postgres.adminUrl;
  const keys = await createTestWorkloadKeys(['key-management', ...(options.workloads ?? [])]);
  const kms = await startKmsService(keys, options.env);
  return {
    service: kms.service,
    signer: (workload) => loadWorkloadSigner(workload, keys.keyFile(workload)),
    stop: async () => {
      await kms.stop();
      await postgres.stop();
    },
  };
}

/**
 * Key management on a database of its own in the PostgreSQL of RAMPART_TEST_DATABASE_URL, with a
 * fresh root key file; `keys` must hold `key-management` and every workload that calls it.
 */
export async function startKmsService(
  keys: { keyFile(service: string): string; trustDir: string },
  env: Record<string, string> = {},
): Promise<{ service: RunningService; stop: () => Promise<void> }> {
  const database = await createTestDatabase('key_management');
  const rootKeyFile = join(await mkdtemp(join(tmpdir(), 'rampart-kms-bench-')), 'root.key');
  await writeFile(rootKeyFile, randomBytes(32), { mode: 0o600 });
  const service = await startService(keyManagementService, {
    env: {
      PORT: '0',
      LOG_LEVEL: 'error',
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: database.schema,
      WORKLOAD_KEY_FILE: keys.keyFile('key-management'),
      WORKLOAD_TRUST_DIR: keys.trustDir,
      KMS_ROOT_KEY_FILE: rootKeyFile,
      ...env,
    },
  });
  return {
    service,
    stop: async () => {
      await service.stop();
      await database.drop();
    },
  };
}
