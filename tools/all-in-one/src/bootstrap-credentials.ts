import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * First run only: the initial administrator's credentials, written once to
 * `<home>/bootstrap.json` (0600). Identity imports them when it creates the first account; the
 * file is never rewritten, so deleting it after the first login removes the secret from disk.
 */
export async function writeBootstrapCredentials(
  home: string,
): Promise<{ path: string; created: boolean }> {
  const path = join(home, 'bootstrap.json');
  if (existsSync(path)) return { path, created: false };
  const credentials = {
    username: 'admin',
    password: randomBytes(18).toString('base64url'),
    createdAt: new Date().toISOString(),
    note: 'Initial Rampart administrator. Change the password at first login, then delete this file.',
  };
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { path, created: true };
}
