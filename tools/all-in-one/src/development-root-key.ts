import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * All-in-one only: the key-management root key, 32 random bytes generated on first start. Every
 * other key is wrapped by it, so losing it loses them all, and a copy of it opens them all. A
 * production deployment mounts it as a secret (or uses an HSM); this file is for development.
 */
export async function ensureDevelopmentRootKey(home: string): Promise<string> {
  const path = join(home, 'secrets', 'kms-root.key');
  if (!existsSync(path)) {
    await writeFile(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
    process.stderr.write(
      `[rampart] WARNING: generated a development root key at ${path}. It protects every key in this ` +
        'installation: back it up with the data, and never use all-in-one mode in production.\n',
    );
  }
  return path;
}
