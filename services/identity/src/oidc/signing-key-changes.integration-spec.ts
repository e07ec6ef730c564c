import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenSigningKeyEvents } from '@rampart/contracts';
import {
  createEvent,
  createLogger,
  createServiceDataSource,
  CreateMessagingTables1764000000000,
  InboxConsumer,
  openAndMigrate,
} from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import type { DataSource } from 'typeorm';
import { SigningKeyChanges } from './signing-key-changes.js';
import { signingKeysConsumer } from './signing-keys.consumer.js';

const logger = createLogger('identity-test', 'silent');

/** Waits until `count()` reaches `expected`, or fails after two seconds. */
async function until(count: () => number, expected: number): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (count() < expected) {
    if (Date.now() > deadline) throw new Error(`${count()} changes heard, expected ${expected}`);
    await sleep(20);
  }
}

describe('signing-key changes: key-management events reach every identity replica', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    dataSource = createServiceDataSource({
      url: database.url,
      schema: database.schema,
      migrations: [CreateMessagingTables1764000000000],
    });
    await openAndMigrate(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const message = (type: keyof typeof TokenSigningKeyEvents, kid: string, offset: number) => {
    const definition = TokenSigningKeyEvents[type];
    const event = createEvent('key-management', definition, {
      subject: kid,
      tenant: 'default',
      data: { kid, algorithm: 'ES256', state: 'CURRENT', trigger: 'on-demand' },
    });
    return {
      topic: definition.topic.name,
      key: kid,
      value: JSON.stringify(event),
      headers: {},
      position: `0/${offset}`,
    };
  };

  it('tells every listening replica once per settled batch, and not again on redelivery', async () => {
    const heard = [0, 0];
    const replicas = heard.map(
      (_, index) =>
        new SigningKeyChanges({
          databaseUrl: database.url,
          logger,
          onChange: () => heard[index]!++,
        }),
    );
    await Promise.all(replicas.map((replica) => replica.start()));
    try {
      const consumer = new InboxConsumer(signingKeysConsumer, dataSource, database.schema, logger);
      // A rotation: three events in one batch, one notification.
      const rotation = [
        message('deactivated', 'k1', 1),
        message('activated', 'k2', 2),
        message('created', 'k3', 3),
      ];
      await consumer.handleBatch(rotation, () => Promise.resolve());
      await until(() => Math.min(...heard), 1);
      await sleep(100);
      expect(heard).toEqual([1, 1]);

      // Redelivered: already in the inbox, so nothing is settled and nobody is told.
      await consumer.handleBatch(rotation, () => Promise.resolve());
      await sleep(200);
      expect(heard).toEqual([1, 1]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  });

  it('listens again after its session is cut, reporting a change it may have missed', async () => {
    let heard = 0;
    const changes = new SigningKeyChanges({
      databaseUrl: database.url,
      logger,
      onChange: () => heard++,
      reconnectMs: 50,
    });
    await changes.start();
    try {
      await dataSource.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE query LIKE 'LISTEN %' AND datname = current_database()`,
      );
      await until(() => heard, 1);
      // Listening again: a notification is heard.
      await sleep(100);
      await dataSource.query(`SELECT pg_notify('rampart_identity_signing_keys_changed', '')`);
      await until(() => heard, 2);
    } finally {
      await changes.stop();
    }
  });
});
