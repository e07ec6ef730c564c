import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { deadLetterTopic } from '@rampart/contracts';
import { probeEvents } from '@rampart/testing';
import { describeWithKafka } from '@rampart/testing/jest';
import { createTestDatabase, type TestDatabase } from '../testing-support/test-database.js';
import { createServiceDataSource, openAndMigrate } from '../database/data-source.js';
import { createLogger } from '../telemetry/logger.js';
import type { EventOf } from '@rampart/contracts';
import { createEvent, InvalidEventError } from './event-factory.js';
import { defineConsumer, InboxConsumer, on, RetryBatchLaterError } from './inbox-consumer.js';
import { Messaging } from './messaging.js';
import { OutboxRelay } from './outbox-relay.js';
import { CreateMessagingTables1764000000000 } from './messaging.migration.js';
import type { EventTransport, OutgoingMessage } from './transport.js';
import { InProcessTransport } from './transports/in-process.transport.js';
import { KafkaTransport } from './transports/kafka.transport.js';

const logger = createLogger('messaging-test', 'silent');

interface Harness {
  database: TestDatabase;
  dataSource: DataSource;
  messaging: Messaging;
  probe: ReturnType<typeof probeEvents>;
  attempts: Map<string, number>;
  /** The size of every batch the batch handler was given (with `batch: true`). */
  batchSizes: number[];
}

/** Producer and consumer share one service database here; the consumer writes `applied` rows. */
async function harness(
  transport: EventTransport,
  options: { maxAttempts?: number; batch?: boolean } = {},
): Promise<Harness> {
  const database = await createTestDatabase('svc');
  const dataSource = createServiceDataSource({
    url: database.url,
    schema: database.schema,
    migrations: [CreateMessagingTables1764000000000],
    poolSize: 4,
  });
  await openAndMigrate(dataSource);
  await dataSource.query(
    `CREATE TABLE applied (event_id uuid PRIMARY KEY, subject text NOT NULL, sequence int NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  const probe = probeEvents(randomBytes(4).toString('hex'));
  const attempts = new Map<string, number>();
  const batchSizes: number[] = [];
  const consumer = defineConsumer({
    name: `test-consumer-${randomBytes(3).toString('hex')}`,
    maxAttempts: options.maxAttempts ?? 3,
    retryBackoffMs: 10,
    // The bulk path writes every event of the batch in one statement, and fails the whole batch
    // when one of its events is meant to fail: the per-event handler then settles them.
    ...(options.batch
      ? {
          handleBatch: async (envelopes, transaction) => {
            // Validated by the inbox against the consumer's only event type.
            const events = envelopes as readonly EventOf<typeof probe.recorded>[];
            batchSizes.push(events.length);
            if (events.some((event) => event.data.failUntilAttempt !== undefined)) {
              throw new Error('planned batch failure');
            }
            await transaction.query(
              `INSERT INTO applied (event_id, subject, sequence)
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[])`,
              [
                events.map((event) => event.id),
                events.map((event) => event.subject),
                events.map((event) => event.data.sequence),
              ],
            );
          },
        }
      : {}),
    handlers: [
      on(probe.recorded, async (event, transaction) => {
        const attempt = (attempts.get(event.id) ?? 0) + 1;
        attempts.set(event.id, attempt);
        if (event.data.failUntilAttempt !== undefined && attempt <= event.data.failUntilAttempt) {
          throw new Error(`planned failure ${attempt}`);
        }
        await transaction.query(
          `INSERT INTO applied (event_id, subject, sequence) VALUES ($1, $2, $3)`,
          [event.id, event.subject, event.data.sequence],
        );
      }),
    ],
  });
  const messaging = new Messaging({
    service: 'test',
    schema: database.schema,
    tenant: 'default',
    databaseUrl: database.url,
    dataSource,
    transport,
    logger,
    produces: [probe.recorded],
    consumers: [consumer],
    relay: { pollIntervalMs: 50 },
  });
  await messaging.start();
  return { database, dataSource, messaging, probe, attempts, batchSizes };
}

async function produce(
  h: Harness,
  events: { subject: string; sequence: number; failUntilAttempt?: number }[],
): Promise<void> {
  await h.dataSource.transaction(async (transaction) => {
    for (const { subject, ...data } of events) {
      await h.messaging.outbox.write(transaction, h.probe.recorded, { subject, data });
    }
  });
}

async function appliedRows(h: Harness): Promise<{ subject: string; sequence: number }[]> {
  return h.dataSource.query(`SELECT subject, sequence FROM applied ORDER BY applied_at, sequence`);
}

async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) return value;
    await sleep(50);
  }
}

async function teardown(h: Harness | undefined, transport: EventTransport): Promise<void> {
  if (!h) return;
  await h.messaging.stop();
  await transport.stop();
  await h.dataSource.destroy();
  await h.database.drop();
}

describe('outbox', () => {
  let h: Harness;
  const transport = new InProcessTransport();
  beforeAll(async () => {
    h = await harness(transport);
  });
  afterAll(() => teardown(h, transport));

  it('writes an event only when the state change commits', async () => {
    await expect(
      h.dataSource.transaction(async (transaction) => {
        await h.messaging.outbox.write(transaction, h.probe.recorded, {
          subject: 'a',
          data: { sequence: 1 },
        });
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect(await h.dataSource.query(`SELECT * FROM outbox`)).toHaveLength(0);
    await produce(h, [{ subject: 'a', sequence: 2 }]);
    const rows = await h.dataSource.query<{ payload: string }[]>(`SELECT payload FROM outbox`);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.payload)).toMatchObject({
      specversion: '1.0',
      source: '/rampart/test',
      type: 'rampart.test.probe.recorded',
      subject: 'a',
      tenant: 'default',
      data: { sequence: 2 },
    });
  });

  it('refuses a malformed event at produce and writes nothing', async () => {
    const before = await h.dataSource.query(`SELECT count(*)::int AS n FROM outbox`);
    await expect(
      h.dataSource.transaction((transaction) =>
        h.messaging.outbox.write(transaction, h.probe.recorded, {
          subject: 'a',
          data: { sequence: -1 },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidEventError);
    expect(await h.dataSource.query(`SELECT count(*)::int AS n FROM outbox`)).toEqual(before);
  });

  it('writes many events in their order, or none if one is malformed', async () => {
    await h.dataSource.query(`DELETE FROM outbox`);
    const events = [3, 1, 2].map((sequence) => ({
      definition: h.probe.recorded,
      subject: 'm',
      data: { sequence },
    }));
    const ids = await h.dataSource.transaction((transaction) =>
      h.messaging.outbox.writeMany(transaction, events),
    );
    const rows = await h.dataSource.query<{ event_id: string; payload: string }[]>(
      `SELECT event_id, payload FROM outbox ORDER BY id`,
    );
    expect(rows.map((row) => row.event_id)).toEqual(ids);
    expect(
      rows.map((row) => (JSON.parse(row.payload) as { data: { sequence: number } }).data.sequence),
    ).toEqual([3, 1, 2]);

    await expect(
      h.dataSource.transaction((transaction) =>
        h.messaging.outbox.writeMany(transaction, [
          ...events,
          { definition: h.probe.recorded, subject: 'm', data: { sequence: -5 } },
        ]),
      ),
    ).rejects.toBeInstanceOf(InvalidEventError);
    expect(await h.dataSource.query(`SELECT count(*)::int AS n FROM outbox`)).toEqual([{ n: 3 }]);
  });

  it('refuses to write outside a transaction', async () => {
    await expect(
      h.messaging.outbox.write(h.dataSource.manager, h.probe.recorded, {
        subject: 'a',
        data: { sequence: 1 },
      }),
    ).rejects.toThrow(/transaction/);
  });
});

describe('in-process transport', () => {
  let h: Harness;
  const transport = new InProcessTransport();
  beforeAll(async () => {
    h = await harness(transport);
    await transport.start();
    h.messaging.startRelay();
  });
  afterAll(() => teardown(h, transport));

  it('delivers every event once, in order per subject', async () => {
    await produce(
      h,
      Array.from({ length: 50 }, (_, i) => ({ subject: `s${i % 3}`, sequence: i })),
    );
    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.length >= 50,
    );
    expect(rows).toHaveLength(50);
    for (const subject of ['s0', 's1', 's2']) {
      const sequences = rows.filter((row) => row.subject === subject).map((row) => row.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }
    const pending = await h.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND topic NOT LIKE '%.dlq'`,
    );
    expect(pending[0].n).toBe(0);
  });

  it('applies a redelivered event once', async () => {
    await produce(h, [{ subject: 'dup', sequence: 1 }]);
    await waitFor(
      () => appliedRows(h),
      (r) => r.some((row) => row.subject === 'dup'),
    );
    // Simulate a relay that died after publishing but before marking: the row goes out again.
    await h.dataSource.query(`UPDATE outbox SET published_at = NULL WHERE message_key = 'dup'`);
    await waitFor(
      () =>
        h.dataSource.query(
          `SELECT count(*)::int AS n FROM outbox WHERE message_key = 'dup' AND published_at IS NULL`,
        ),
      (r: { n: number }[]) => r[0]!.n === 0,
    );
    const rows = (await appliedRows(h)).filter((row) => row.subject === 'dup');
    expect(rows).toHaveLength(1);
  });

  it('purges old published rows and expired inbox ids, but keeps dead letters', async () => {
    await h.dataSource.query(`
      INSERT INTO outbox (topic, message_key, payload, published_at) VALUES
        ('rampart.test.old.v1', 'k', '{}', now() - interval '2 hours'),
        ('rampart.test.old.v1.dlq', 'k', '{}', now() - interval '2 hours'),
        ('rampart.test.old.v1', 'k', '{}', now())`);
    await h.dataSource.query(`
      INSERT INTO inbox (consumer, event_id, status, topic, settled_at) VALUES
        ('old', 'expired', 'handled', 't', now() - interval '30 days'),
        ('old', 'recent', 'handled', 't', now() - interval '1 day')`);
    // A relay purges on its first round, then once a minute.
    const relay = new OutboxRelay(h.dataSource, transport, logger, {
      schema: h.database.schema,
      databaseUrl: h.database.url,
      pollIntervalMs: 50,
    });
    await h.messaging.stop();
    relay.start();
    const left = await waitFor(
      () =>
        h.dataSource.query<{ topic: string }[]>(
          `SELECT topic FROM outbox WHERE topic LIKE 'rampart.test.old%' ORDER BY id`,
        ),
      (rows) => rows.length === 2,
    );
    await relay.stop();
    h.messaging.startRelay();
    expect(left.map((row) => row.topic)).toEqual([
      'rampart.test.old.v1.dlq',
      'rampart.test.old.v1',
    ]);
    expect(await h.dataSource.query(`SELECT event_id FROM inbox WHERE consumer = 'old'`)).toEqual([
      { event_id: 'recent' },
    ]);
  });

  it('retries a failing handler and dead-letters it after the last attempt', async () => {
    await produce(h, [
      { subject: 'flaky', sequence: 1, failUntilAttempt: 2 },
      { subject: 'poison', sequence: 1, failUntilAttempt: 99 },
      { subject: 'after', sequence: 1 },
    ]);
    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.some((row) => row.subject === 'after'),
    );
    expect(rows.map((row) => row.subject)).toEqual(expect.arrayContaining(['flaky', 'after']));
    expect(rows.map((row) => row.subject)).not.toContain('poison');
    const dead = await h.dataSource.query<{ topic: string; headers: Record<string, string> }[]>(
      `SELECT topic, headers FROM outbox WHERE topic = $1`,
      [deadLetterTopic(h.probe.topic.name)],
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers['rampart-dlq-reason']).toContain('planned failure 3');
    expect(dead[0]!.headers['rampart-dlq-attempts']).toBe('3');
    const inbox = await h.dataSource.query(
      `SELECT status FROM inbox WHERE error LIKE '%planned failure 3%'`,
    );
    expect(inbox).toEqual([{ status: 'dead-lettered' }]);
  });
});

describe('in-process transport with a batch handler', () => {
  let h: Harness;
  const transport = new InProcessTransport();
  beforeAll(async () => {
    h = await harness(transport, { batch: true });
    await transport.start();
    h.messaging.startRelay();
  });
  afterAll(() => teardown(h, transport));

  it('hands a batch to the batch handler whole, never to the per-event handler', async () => {
    await produce(
      h,
      Array.from({ length: 40 }, (_, i) => ({ subject: `b${i % 2}`, sequence: i })),
    );
    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.length >= 40,
    );
    expect(rows).toHaveLength(40);
    expect(h.batchSizes.reduce((sum, size) => sum + size, 0)).toBe(40);
    expect(Math.max(...h.batchSizes)).toBeGreaterThan(1);
    expect(h.attempts.size).toBe(0);
  });

  it('settles a failing batch event by event: the others applied once, the poison dead-lettered', async () => {
    await produce(h, [
      { subject: 'batch-ok', sequence: 1 },
      { subject: 'batch-poison', sequence: 1, failUntilAttempt: 99 },
      { subject: 'batch-ok', sequence: 2 },
    ]);
    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.filter((row) => row.subject === 'batch-ok').length >= 2,
    );
    expect(rows.filter((row) => row.subject === 'batch-ok').map((row) => row.sequence)).toEqual([
      1, 2,
    ]);
    expect(rows.map((row) => row.subject)).not.toContain('batch-poison');
    const dead = await waitFor(
      () =>
        h.dataSource.query<{ headers: Record<string, string> }[]>(
          `SELECT headers FROM outbox WHERE topic = $1`,
          [deadLetterTopic(h.probe.topic.name)],
        ),
      (r) => r.length > 0,
    );
    expect(dead).toHaveLength(1);
    // Every per-event attempt was made: the batch failure names no single event.
    expect(dead[0]!.headers['rampart-dlq-attempts']).toBe('3');
    expect(dead[0]!.headers['rampart-dlq-reason']).toContain('planned failure 3');
  });
});

describe('a handler waiting for a dependency (RetryBatchLaterError)', () => {
  let h: Harness;
  const transport = new InProcessTransport();
  beforeAll(async () => {
    h = await harness(transport);
  });
  afterAll(() => teardown(h, transport));

  it.each([
    ['per-event handlers', false],
    ['a batch handler', true],
  ])(
    'leaves the whole batch unsettled, fast path (%s) and careful path alike, until it can run',
    async (_, withBatchHandler) => {
      let dependencyUp = false;
      const attempts = new Map<string, number>();
      const apply = async (
        event: EventOf<Harness['probe']['recorded']>,
        transaction: EntityManager,
      ) => {
        const attempt = (attempts.get(event.id) ?? 0) + 1;
        attempts.set(event.id, attempt);
        if (event.subject === 'needs-dependency' && !dependencyUp) {
          throw new RetryBatchLaterError('the dependency is down');
        }
        if (event.data.failUntilAttempt !== undefined && attempt <= event.data.failUntilAttempt) {
          throw new Error(`planned failure ${attempt}`);
        }
        await transaction.query(
          `INSERT INTO applied (event_id, subject, sequence) VALUES ($1, $2, $3)`,
          [event.id, event.subject, event.data.sequence],
        );
      };
      const name = `test-waiting-${withBatchHandler ? 'batch' : 'events'}`;
      const consumer = new InboxConsumer(
        defineConsumer({
          name,
          retryBackoffMs: 10,
          handlers: [on(h.probe.recorded, apply)],
          ...(withBatchHandler
            ? {
                handleBatch: async (events, transaction) => {
                  for (const event of events) {
                    await apply(event as EventOf<Harness['probe']['recorded']>, transaction);
                  }
                },
              }
            : {}),
        }),
        h.dataSource,
        h.database.schema,
        logger,
      );
      const message = (subject: string, data: { sequence: number; failUntilAttempt?: number }) => {
        const event = createEvent('test', h.probe.recorded, {
          subject,
          tenant: 'default',
          data,
        });
        return {
          topic: h.probe.topic.name,
          key: subject,
          value: JSON.stringify(event),
          headers: {},
          position: `0/${data.sequence}`,
        };
      };
      // The first event fails once (the batch goes the careful way), then the second must wait.
      const batch = [
        message('flaky-first', { sequence: 1, failUntilAttempt: 1 }),
        message('needs-dependency', { sequence: 2 }),
      ];
      const settled = () => h.dataSource.query(`SELECT 1 FROM inbox WHERE consumer = $1`, [name]);
      const applied = async () =>
        (await appliedRows(h)).filter((row) =>
          ['flaky-first', 'needs-dependency'].includes(row.subject),
        );
      // Alone on the fast path, and behind a failing event on the careful path.
      for (const messages of [[batch[1]!], batch]) {
        await expect(consumer.handleBatch(messages, () => Promise.resolve())).rejects.toThrow(
          RetryBatchLaterError,
        );
        expect(await settled()).toEqual([]);
        expect(await applied()).toEqual([]);
        expect(await h.dataSource.query(`SELECT 1 FROM outbox WHERE topic LIKE '%.dlq'`)).toEqual(
          [],
        );
      }
      // Each try ran each handler once: a waiting handler is not retried in place, and a batch
      // handler that waits does not send the batch the careful way first.
      expect(attempts.size).toBe(2);
      expect([...attempts.values()]).toEqual([2, 2]);

      dependencyUp = true;
      await consumer.handleBatch(batch, () => Promise.resolve());
      expect((await applied()).map((row) => row.subject).sort()).toEqual([
        'flaky-first',
        'needs-dependency',
      ]);
      expect(await settled()).toHaveLength(2);
      await h.dataSource.query(`DELETE FROM applied`);
    },
  );
});

describeWithKafka('kafka transport (real broker)', (brokers) => {
  const transports: EventTransport[] = [];
  const harnesses: Harness[] = [];
  const kafka = new Kafka({
    clientId: 'rampart-test-inspector',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });

  function kafkaTransport(): KafkaTransport {
    const transport = new KafkaTransport(
      { brokers: brokers.split(','), clientId: 'rampart-test' },
      logger,
    );
    transports.push(transport);
    return transport;
  }

  async function messagesOn(topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce(
        (sum, partition) => sum + Number(partition.high) - Number(partition.low),
        0,
      );
    } finally {
      await admin.disconnect();
    }
  }

  async function readAll(
    topic: string,
    expected: number,
  ): Promise<{ value: string; headers: Record<string, string> }[]> {
    const consumer = kafka.consumer({ groupId: `inspector-${randomBytes(4).toString('hex')}` });
    const seen: { value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {}))
          headers[name] = String(value);
        seen.push({ value: message.value?.toString() ?? '', headers });
        return Promise.resolve();
      },
    });
    await waitFor(
      () => Promise.resolve(seen.length),
      (n) => n >= expected,
    );
    await consumer.disconnect();
    return seen;
  }

  it('publishes more than a broker request may hold, in order, one request after the other', async () => {
    const transport = kafkaTransport();
    await transport.start();
    const topic = `rampart.test.large-${randomBytes(3).toString('hex')}.v1`;
    await transport.ensureTopics([topic]);
    // 1,200 messages of 2 KiB under one key: 2.4 MiB for one partition, over the broker's 1 MiB.
    const padding = 'x'.repeat(2_048);
    await transport.publish(
      Array.from({ length: 1_200 }, (_, index) => ({
        topic,
        key: 'one-partition',
        value: JSON.stringify({ index, padding }),
        headers: { 'content-type': 'application/json' },
      })),
    );
    const received = await readAll(topic, 1_200);
    expect(
      received.map((message) => (JSON.parse(message.value) as { index: number }).index),
    ).toEqual(Array.from({ length: 1_200 }, (_, index) => index));
  });

  afterEach(async () => {
    const finished = harnesses.splice(0);
    for (const h of finished) await h.messaging.stop();
    for (const transport of transports.splice(0)) await transport.stop();
    for (const h of finished) {
      await h.dataSource.destroy();
      await h.database.drop();
    }
  });

  it('delivers every event once and keeps order per subject key', async () => {
    const transport = kafkaTransport();
    await transport.start();
    const h = await harness(transport);
    harnesses.push(h);
    h.messaging.startRelay();
    const events = Array.from({ length: 600 }, (_, i) => ({
      subject: `user-${i % 7}`,
      sequence: i,
    }));
    for (let i = 0; i < events.length; i += 100) await produce(h, events.slice(i, i + 100));
    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.length >= events.length,
      60_000,
    );
    expect(rows).toHaveLength(events.length);
    for (let s = 0; s < 7; s++) {
      const sequences = rows
        .filter((row) => row.subject === `user-${s}`)
        .map((row) => row.sequence);
      expect(sequences).toEqual(
        events.filter((e) => e.subject === `user-${s}`).map((e) => e.sequence),
      );
    }
  });

  it('loses nothing and applies nothing twice when the relay dies between publish and mark', async () => {
    const real = kafkaTransport();
    await real.start();
    // The first publish reaches Kafka, then the "process" dies before the outbox rows are marked.
    let crashes = 1;
    const crashing: EventTransport = Object.assign(Object.create(real) as EventTransport, {
      publish: async (messages: OutgoingMessage[]) => {
        await real.publish(messages);
        if (crashes-- > 0) throw new Error('relay killed after publish');
      },
    });
    const h = await harness(crashing);
    harnesses.push(h);
    await produce(
      h,
      Array.from({ length: 40 }, (_, i) => ({ subject: `k${i % 4}`, sequence: i })),
    );
    await expect(h.messaging.relay.drainOnce()).rejects.toThrow('relay killed after publish');
    const unmarked = await h.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
    );
    expect(unmarked[0].n).toBe(40);
    // A new relay (the restarted process) publishes the same rows again.
    h.messaging.startRelay();
    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.length >= 40,
      60_000,
    );
    await sleep(1_000);
    expect(await appliedRows(h)).toHaveLength(40);
    expect(rows).toHaveLength(40);
    expect(await messagesOn(h.probe.topic.name)).toBe(80);
  });

  it('dead-letters a failing event and a malformed message without stopping the consumer', async () => {
    const transport = kafkaTransport();
    await transport.start();
    const h = await harness(transport, { maxAttempts: 3 });
    harnesses.push(h);
    h.messaging.startRelay();
    await produce(h, [
      { subject: 'p', sequence: 1, failUntilAttempt: 99 },
      { subject: 'p', sequence: 2 },
    ]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: h.probe.topic.name,
      messages: [
        { key: 'p', value: '{"not":"an event"' },
        // NUL cannot be stored in PostgreSQL text: the dead letter keeps it as base64.
        { key: 'p\u0000', value: 'nul\u0000inside', headers: { 'x-bad': 'a\u0000b' } },
      ],
    });
    await producer.disconnect();
    await produce(h, [{ subject: 'p', sequence: 3 }]);

    const rows = await waitFor(
      () => appliedRows(h),
      (r) => r.length >= 2,
      60_000,
    );
    expect(rows.map((row) => row.sequence)).toEqual([2, 3]);
    const dead = await readAll(deadLetterTopic(h.probe.topic.name), 3);
    expect(dead).toHaveLength(3);
    const reasons = dead.map((letter) => letter.headers['rampart-dlq-reason'] ?? '');
    expect(reasons.filter((reason) => reason === 'not JSON')).toHaveLength(2);
    expect(reasons.find((reason) => reason !== 'not JSON')).toContain('planned failure 3');
    const encoded = dead.find((letter) => letter.headers['rampart-dlq-encoding'] === 'base64');
    expect(Buffer.from(encoded!.value, 'base64').toString()).toBe('nul\u0000inside');
    expect(h.attempts.size).toBe(3);
  });

  it('applies an event redelivered by Kafka once', async () => {
    const transport = kafkaTransport();
    await transport.start();
    const h = await harness(transport);
    harnesses.push(h);
    await produce(h, [{ subject: 'r', sequence: 1 }]);
    const [row] = await h.dataSource.query<{ payload: string }[]>(`SELECT payload FROM outbox`);
    // The same event arrives three times (producer retries, replays, a reset consumer group).
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: h.probe.topic.name,
      messages: [1, 2, 3].map(() => ({ key: 'r', value: row!.payload })),
    });
    await producer.disconnect();
    await waitFor(
      () => appliedRows(h),
      (r) => r.length >= 1,
    );
    await sleep(1_500);
    expect(await appliedRows(h)).toHaveLength(1);
    const inbox = await h.dataSource.query(`SELECT status FROM inbox`);
    expect(inbox).toEqual([{ status: 'handled' }]);
  });
});
