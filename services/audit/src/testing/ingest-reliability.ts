import { expect } from '@jest/globals';
import { LoginEvents } from '@rampart/contracts';
import {
  createServiceDataSource,
  Outbox,
  startService,
  type RunningService,
} from '@rampart/platform';
import { startRestartableKafka, type RestartableKafka } from '@rampart/testing';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { verifyChain } from '../chain/chain-verifier.js';
import { verifyTree } from '../checkpoints/merkle-verifier.js';
import { auditService } from '../audit.service.js';
import { createAuditEnvironment, type AuditEnvironment } from './audit-harness.js';

/** Polls `condition` every 50 ms until it holds, or fails naming `what`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A connection to the audit service's database as the service's role, apart from any running
 * service: to write events into its outbox as a producer would, and to read the log back. Its
 * application name keeps it apart from the service's own sessions in `pg_stat_activity`.
 */
export const PRODUCER_APPLICATION = 'rampart-test-producer';

export async function openProducer(environment: AuditEnvironment): Promise<DataSource> {
  const dataSource = createServiceDataSource({
    url: environment.database.url,
    schema: environment.database.schema,
    migrations: [],
    applicationName: PRODUCER_APPLICATION,
    poolSize: 2,
  });
  await dataSource.initialize();
  return dataSource;
}

/**
 * Writes `count` events into the outbox in transactions of `perTransaction`, as a producing
 * service does; the running service's relay publishes them to the transport. Returns their ids.
 */
export async function produceLoginEvents(
  producer: DataSource,
  count: number,
  perTransaction = 500,
): Promise<string[]> {
  const { schema } = producer.options as { schema: string };
  const outbox = new Outbox('identity', schema, 'default');
  const ids: string[] = [];
  for (let written = 0; written < count; written += perTransaction) {
    const size = Math.min(perTransaction, count - written);
    ids.push(
      ...(await producer.transaction((transaction) =>
        outbox.writeMany(
          transaction,
          Array.from({ length: size }, (_, index) => ({
            definition: LoginEvents.failed,
            subject: randomUUID(),
            data: { reason: 'bad-password' as const, ip: `198.51.100.${(written + index) % 250}` },
          })),
        ),
      )),
    );
  }
  return ids;
}

/** How many records the log holds now, anyone's. */
export async function logSize(producer: DataSource): Promise<number> {
  const [{ count }] = await producer.query<[{ count: string }]>(
    `SELECT count(*) AS count FROM audit_records`,
  );
  return Number(count);
}

/** Outbox rows the relay has not published yet. */
export async function unpublishedCount(producer: DataSource): Promise<number> {
  const [{ count }] = await producer.query<[{ count: string }]>(
    `SELECT count(*) AS count FROM outbox WHERE published_at IS NULL`,
  );
  return Number(count);
}

/** How many of `ids` the log holds now. */
export async function recordedCount(producer: DataSource, ids: readonly string[]): Promise<number> {
  const [{ count }] = await producer.query<[{ count: string }]>(
    `SELECT count(*) AS count FROM audit_records WHERE event_id = ANY($1::text[])`,
    [ids],
  );
  return Number(count);
}

/**
 * The promise of the ingest: every produced event is in the log exactly once, the sequence
 * numbers run 1..n without a gap, and both the hash chain and the Merkle tree verify.
 */
export async function expectExactlyOnceAndVerified(
  producer: DataSource,
  ids: readonly string[],
): Promise<void> {
  const perId = await producer.query<{ event_id: string; copies: string }[]>(
    `SELECT event_id, count(*) AS copies FROM audit_records
      WHERE event_id = ANY($1::text[]) GROUP BY event_id`,
    [ids],
  );
  expect(perId).toHaveLength(ids.length);
  expect(perId.filter((row) => Number(row.copies) !== 1)).toEqual([]);
  const [span] = await producer.query<[{ first: string; last: string; total: string }]>(
    `SELECT min(sequence) AS first, max(sequence) AS last, count(*) AS total FROM audit_records`,
  );
  expect(Number(span.first)).toBe(1);
  expect(Number(span.last)).toBe(Number(span.total));
  // The service is still running and may append (its own start, a checkpoint) between these
  // reads: the verifiers see at least the records counted above, each in its own snapshot.
  const chain = await verifyChain(producer);
  expect(chain).toMatchObject({ valid: true });
  expect((chain as { records: number }).records).toBeGreaterThanOrEqual(Number(span.total));
  const tree = await verifyTree(producer);
  expect(tree.merkle).toMatchObject({ valid: true });
  expect((tree.merkle as { leaves: number }).leaves).toBeGreaterThanOrEqual(Number(span.total));
}

/**
 * What an ingest reliability test runs on: a Kafka broker of its own (to stop it, or to keep the
 * `audit.ingest` group's partitions away from another suite's audit service on the run's broker),
 * the audit service's environment on it, and a producer connection. The service itself is started
 * by the test (`start`), in this process, or not at all.
 */
export interface IngestRig {
  readonly kafka: RestartableKafka;
  readonly environment: AuditEnvironment;
  readonly producer: DataSource;
  /** Starts the audit service in this process; `close` stops it. */
  start(): Promise<RunningService>;
  /** Whether the service (in any process) has recorded its own start: the ingest is running. */
  hasRecordedItsStart(): Promise<boolean>;
  close(): Promise<void>;
}

export async function openIngestRig(extraEnv: Record<string, string> = {}): Promise<IngestRig> {
  const kafka = await startRestartableKafka();
  const environment = await createAuditEnvironment({ KAFKA_BROKERS: kafka.brokers, ...extraEnv });
  const producer = await openProducer(environment);
  const services: RunningService[] = [];
  return {
    kafka,
    environment,
    producer,
    async start() {
      const service = await startService(auditService, { env: environment.env });
      services.push(service);
      return service;
    },
    async hasRecordedItsStart() {
      const started = await environment
        .admin(`SELECT 1 FROM audit_records WHERE event_type = 'rampart.audit.lifecycle.started'`)
        .catch((error: unknown) => {
          // Until the service's migrations ran, there is no table to ask.
          if ((error as { code?: string }).code === '42P01') return [];
          throw error;
        });
      return started.length > 0;
    },
    async close() {
      for (const service of services) await service.stop();
      await producer.destroy();
      await environment.close();
      await kafka.close();
    },
  };
}
