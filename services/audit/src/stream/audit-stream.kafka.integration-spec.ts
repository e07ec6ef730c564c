import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { AUDIT_STREAM_KEY, AuditStreamTopic, LoginEvents } from '@rampart/contracts';
import { describeWithKafka } from '@rampart/testing/jest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { entryHash } from '../chain/chain-hash.js';
import { streamEventId } from './audit-stream.js';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';

interface Seen {
  partition: number;
  offset: bigint;
  key: string | undefined;
  envelope: {
    id: string;
    data: { sequence: number; previousHash: string; hash: string; record: unknown };
  };
}

describeWithKafka('rampart.audit.v1 on a real Kafka broker', (brokers) => {
  let audit: AuditHarness;
  let consumer: Consumer;
  const seen: Seen[] = [];
  /** This log's name, in every message id: other tests' audit services share the topic. */
  const origin = `test-${randomUUID()}/audit`;

  beforeAll(async () => {
    audit = await startAudit({
      KAFKA_BROKERS: brokers,
      KAFKA_CLIENT_ID: `audit-${randomUUID()}`,
      AUDIT_LOG_ORIGIN: origin,
    });
    const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: `security-team-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [AuditStreamTopic.name], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        seen.push({
          partition,
          offset: BigInt(message.offset),
          key: message.key?.toString(),
          envelope: JSON.parse(message.value!.toString()) as Seen['envelope'],
        });
        return Promise.resolve();
      },
    });
  }, 60_000);

  afterAll(async () => {
    await consumer?.disconnect();
    await audit?.stop();
  });

  it('delivers each record of the chain, on one partition, in sequence order, matching the chain', async () => {
    await audit.service.dataSource!.transaction((transaction) =>
      audit.service.messaging!.outbox.writeMany(
        transaction,
        Array.from({ length: 20 }, () => ({
          definition: LoginEvents.failed,
          subject: randomUUID(),
          data: { reason: 'unknown-user', ip: '203.0.113.9' },
        })),
      ),
    );
    // This service's messages, told apart from any other test's by their ids, made of the
    // log's origin and the record's sequence.
    let ours: Seen[] = [];
    let rows: { sequence: string; record: string; previous_hash: Buffer; hash: Buffer }[] = [];
    for (const deadline = Date.now() + 30_000; ;) {
      rows = await audit.admin(
        `SELECT sequence, record, previous_hash, hash FROM audit_records ORDER BY sequence`,
      );
      ours = seen.filter(
        (message) => message.envelope.id === streamEventId(origin, message.envelope.data.sequence),
      );
      const distinct = new Set(ours.map((message) => message.envelope.id));
      if (rows.length >= 21 && distinct.size === rows.length) break;
      if (Date.now() > deadline) throw new Error(`saw ${distinct.size} of ${rows.length}`);
      await sleep(100);
    }
    // At least once: drop redeliveries by sequence, as a consumer would.
    const bySequence = new Map<number, Seen>();
    for (const message of ours) bySequence.set(message.envelope.data.sequence, message);
    expect(bySequence.size).toBe(rows.length);

    expect(new Set(ours.map((message) => message.partition)).size).toBe(1);
    expect(ours.every((message) => message.key === AUDIT_STREAM_KEY)).toBe(true);
    const byOffset = [...ours].sort((a, b) => (a.offset < b.offset ? -1 : 1));
    const sequences = byOffset.map((message) => message.envelope.data.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));

    for (const row of rows) {
      const { data } = bySequence.get(Number(row.sequence))!.envelope;
      expect(data).toEqual({
        sequence: Number(row.sequence),
        previousHash: row.previous_hash.toString('hex'),
        hash: row.hash.toString('hex'),
        record: JSON.parse(row.record),
      });
      expect(entryHash(data.sequence, data.previousHash, data.record).toString('hex')).toBe(
        data.hash,
      );
    }
  }, 60_000);
});
