import { stat } from 'node:fs/promises';

/** Refuses a secret file that anyone but its owner may read. */
export async function assertPrivateFile(path: string): Promise<void> {
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); it must be 0600`,
    );
  }
}
