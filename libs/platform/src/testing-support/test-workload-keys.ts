import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWorkloadKeys } from '../workload/workload-identity.js';

/** Fresh workload key pairs for `services` in a temporary folder, as all-in-one creates them. */
export async function createTestWorkloadKeys(services: readonly string[]): Promise<{
  keyFile: (service: string) => string;
  encryptionKeyFile: (service: string) => string;
  trustDir: string;
}> {
  const directory = await mkdtemp(join(tmpdir(), 'rampart-workload-'));
  return ensureWorkloadKeys(join(directory, 'workload'), services);
}
