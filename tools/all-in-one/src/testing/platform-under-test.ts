import { randomInt } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '@rampart/testing';
import { startAllInOne, type AllInOne } from '../all-in-one.js';
import { TEST_RATE_LIMITS } from './test-rate-limits.js';

/** What the first start wrote to `<home>/bootstrap.json`. */
export interface Bootstrap {
  issuer: string;
  admin: { username: string; password: string };
  adminClient: { client_id: string; client_secret: string; scope: string };
  initialAccessToken: string;
}

export interface OutboxEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

/**
 * A whole all-in-one platform for an end-to-end test file: its issuer (`http://localhost:<port>`,
 * the gateway), the bootstrap credentials, and a database connection to read identity's outbox.
 */
export interface PlatformUnderTest {
  readonly platform: AllInOne;
  readonly home: string;
  readonly issuer: string;
  readonly bootstrap: Bootstrap;
  /** The embedded PostgreSQL's superuser connection string (database `rampart`). */
  readonly databaseUrl: string;
  /** Events of `type` in identity's outbox, oldest first. */
  events(type: string): Promise<OutboxEvent[]>;
  /** The first event of `type` whose data has `data`'s values, waiting up to 5 s for it. */
  eventually(type: string, data: Record<string, unknown>): Promise<OutboxEvent>;
  stop(): Promise<void>;
}

export async function startPlatformUnderTest(name: string): Promise<PlatformUnderTest> {
  const home = await mkdtemp(join(tmpdir(), `rampart-${name}-`));
  const gatewayPort = 20_000 + randomInt(0, 400) * 10 + 3;
  const postgresPort = await freePort();
  const platform = await startAllInOne({
    ...TEST_RATE_LIMITS,
    RAMPART_HOME: home,
    RAMPART_PORT: String(gatewayPort),
    RAMPART_POSTGRES_PORT: String(postgresPort),
    LOG_LEVEL: 'silent',
  });
  const bootstrap = JSON.parse(await readFile(join(home, 'bootstrap.json'), 'utf8')) as Bootstrap;
  const secret = (await readFile(join(home, 'secrets/postgres-admin.secret'), 'utf8')).trim();
  const databaseUrl = `postgres://postgres:${encodeURIComponent(secret)}@127.0.0.1:${postgresPort}/rampart`;
  const database = new pg.Client({ connectionString: databaseUrl });
  await database.connect();

  const events = async (type: string) =>
    (
      await database.query<{ payload: string }>(
        `SELECT payload FROM identity.outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
        [type],
      )
    ).rows.map((row) => JSON.parse(row.payload) as OutboxEvent);

  return {
    platform,
    home,
    issuer: `http://localhost:${gatewayPort}`,
    bootstrap,
    databaseUrl,
    events,
    async eventually(type, data) {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const recorded = await events(type);
        const found = recorded.find((event) =>
          Object.entries(data).every(([key, value]) => event.data[key] === value),
        );
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(
            `no ${type} event with ${JSON.stringify(data)}; the latest: ${JSON.stringify(
              recorded.slice(-5).map((event) => event.data),
            )}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await database.end();
      await platform.stop();
    },
  };
}
