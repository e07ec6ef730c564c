import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KafkaTransport, type RunningService } from '@rampart/platform';
import { describeWithKafka } from '@rampart/testing/jest';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { AuditEnvironment } from '../testing/audit-harness.js';
import {
  expectExactlyOnceAndVerified,
  openIngestRig,
  type IngestRig,
  produceLoginEvents,
  recordedCount,
  unpublishedCount,
  waitUntil,
} from '../testing/ingest-reliability.js';

const EVENTS = 2_000;
const MAX_BYTES_PER_PARTITION = 16 * 1_024;
const MAX_BYTES = 48 * 1_024;
/** The chain's append lock (audit-chain.repository.ts): held elsewhere, every append waits. */
const CHAIN_LOCK = '0x61756469, 0x63686e31';

describeWithKafka('ingest: back-pressure when the database is slow', () => {
  let rig: IngestRig;
  let environment: AuditEnvironment;
  let producer: DataSource;
  let audit: RunningService;

  beforeAll(async () => {
    // The rig's broker is this file's own, so the consumer's load is only this test's events.
    rig = await openIngestRig({
      KAFKA_CONSUMER_MAX_BYTES_PER_PARTITION: String(MAX_BYTES_PER_PARTITION),
      KAFKA_CONSUMER_MAX_BYTES: String(MAX_BYTES),
    });
    ({ environment, producer } = rig);
    audit = await rig.start();
    await waitUntil(() => rig.hasRecordedItsStart(), 'the service to record its own start');
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('holds one fetch at most while appends wait, fetches nothing more, and catches up after', async () => {
    const transport = audit.messaging!.transport;
    expect(transport).toBeInstanceOf(KafkaTransport);
    const load = () => (transport as KafkaTransport).consumerLoad('audit.ingest')!;

    const blocker = new pg.Client({
      connectionString: environment.database.adminUrl,
      options: `-c search_path=${environment.database.schema}`,
    });
    await blocker.connect();
    const ids: string[] = [];
    try {
      await blocker.query(`SELECT pg_advisory_lock(${CHAIN_LOCK})`);
      // Small transactions, each published before the next is written: the relay's record
      // batches stay small next to the fetch limits (Kafka hands a record batch over whole).
      for (let produced = 0; produced < EVENTS; produced += 50) {
        ids.push(...(await produceLoginEvents(producer, 50, 50)));
        await waitUntil(
          async () => (await unpublishedCount(producer)) === 0,
          'the relay to publish the events to Kafka',
        );
      }
      await waitUntil(() => load().inFlightMessages > 0, 'the consumer to hold a stuck batch');
      const stuck = load();
      await sleep(2_000);
      const later = load();

      // The whole backlog is in Kafka, yet the consumer, stuck on its first batches, neither
      // fetched again nor took more: what it holds does not grow with what waits.
      expect(await recordedCount(producer, ids)).toBe(0);
      expect(later.fetches).toBe(stuck.fetches);
      expect(later.inFlightMessages).toBe(stuck.inFlightMessages);
      expect(later.inFlightMessages).toBeLessThan(EVENTS / 4);
      // A fetch holds at most MAX_BYTES, but Kafka hands over a record batch whole, hence the
      // slack of one partition's worth.
      expect(later.inFlightBytes).toBeLessThanOrEqual(MAX_BYTES + MAX_BYTES_PER_PARTITION);
    } finally {
      await blocker.end();
    }

    await waitUntil(
      async () => (await recordedCount(producer, ids)) === EVENTS,
      `all ${EVENTS} events once the database is fast again`,
      45_000,
    );
    // Catching up, each fetch stayed within the limits too (with kafkajs's defaults, 1 MiB per
    // partition, the backlog would have come in one fetch).
    expect(load().peakInFlightBytes).toBeLessThanOrEqual(MAX_BYTES + MAX_BYTES_PER_PARTITION);
    expect(load().peakInFlightMessages).toBeLessThan(EVENTS / 4);
    await expectExactlyOnceAndVerified(producer, ids);
  }, 90_000);
});
