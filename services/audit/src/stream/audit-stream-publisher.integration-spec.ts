import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, type EventTransport, type OutgoingMessage } from '@rampart/platform';
import { appendToChain } from '../chain/chain-appender.js';
import { siemCursorRepository } from '../siem/siem-cursor.repository.js';
import { openAuditTestDatabase, type AuditTestDatabase } from '../testing/audit-database.js';
import { testRecord } from '../testing/records.js';
import { AuditStreamPublisher, STREAM_DESTINATION, streamEventId } from './audit-stream.js';

/**
 * The transport's side of the stream, recorded: what was acknowledged, and a broker that refuses
 * the next publish when told to. (The real Kafka transport is in audit-stream.kafka.integration-spec.)
 */
function recordingTransport(): EventTransport & {
  acknowledged: OutgoingMessage[];
  refuseNext: boolean;
} {
  const transport = {
    kind: 'in-process' as const,
    acknowledged: [] as OutgoingMessage[],
    refuseNext: false,
    start: () => Promise.resolve(),
    ensureTopics: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    isReady: () => Promise.resolve(true),
    stop: () => Promise.resolve(),
    publish(messages: OutgoingMessage[]) {
      if (transport.refuseNext) {
        transport.refuseNext = false;
        return Promise.reject(new Error('the broker is away'));
      }
      transport.acknowledged.push(...messages);
      return Promise.resolve();
    },
  };
  return transport;
}

const ORIGIN = 'test.example/audit';
const logger = createLogger('audit-stream-test', 'silent');

describe('the stream publisher, from the chain with a cursor', () => {
  let db: AuditTestDatabase;

  beforeAll(async () => {
    db = await openAuditTestDatabase();
    await db.dataSource.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: 5 }, (_, index) => testRecord({ subject: `s-${index + 1}` })),
      ),
    );
  });

  afterAll(async () => {
    await db?.close();
  });

  const position = () => siemCursorRepository.position(db.dataSource, STREAM_DESTINATION);
  const sequencesOf = (messages: OutgoingMessage[]) =>
    messages.map(
      (message) => (JSON.parse(message.value) as { data: { sequence: number } }).data.sequence,
    );

  it('moves its cursor only past what the transport acknowledged, and publishes again with the same ids', async () => {
    const transport = recordingTransport();
    const publisher = new AuditStreamPublisher(db.dataSource, transport, {
      origin: ORIGIN,
      batchSize: 3,
      logger,
    });
    transport.refuseNext = true;
    await expect(publisher.publishBatch()).rejects.toThrow('the broker is away');
    expect(await position()).toBe(0);

    expect(await publisher.publishBatch()).toBe(3);
    expect(await position()).toBe(3);
    expect(await publisher.publishBatch()).toBe(2);
    expect(await publisher.publishBatch()).toBe(0);
    expect(await position()).toBe(5);
    expect(sequencesOf(transport.acknowledged)).toEqual([1, 2, 3, 4, 5]);
    expect(
      transport.acknowledged.map((message) => (JSON.parse(message.value) as { id: string }).id),
    ).toEqual([1, 2, 3, 4, 5].map((sequence) => streamEventId(ORIGIN, sequence)));
    await publisher.stop();
  });

  it('lets one replica publish at a time, and another take over once it stopped', async () => {
    const first = recordingTransport();
    const second = recordingTransport();
    const publishers = [first, second].map(
      (transport) =>
        new AuditStreamPublisher(db.dataSource, transport, {
          origin: ORIGIN,
          batchSize: 10,
          logger,
        }),
    );
    await db.dataSource.transaction((transaction) =>
      appendToChain(transaction, [testRecord({ subject: 's-6' })]),
    );
    expect(await publishers[0]!.publishBatch()).toBe(1);
    await db.dataSource.transaction((transaction) =>
      appendToChain(transaction, [testRecord({ subject: 's-7' })]),
    );
    // The first holds the lease: the second stays out, the first goes on.
    expect(await publishers[1]!.publishBatch()).toBe(0);
    expect(await publishers[0]!.publishBatch()).toBe(1);
    await publishers[0]!.stop();
    await db.dataSource.transaction((transaction) =>
      appendToChain(transaction, [testRecord({ subject: 's-8' })]),
    );
    expect(await publishers[1]!.publishBatch()).toBe(1);
    expect(sequencesOf(first.acknowledged)).toEqual([6, 7]);
    expect(sequencesOf(second.acknowledged)).toEqual([8]);
    await publishers[1]!.stop();
  });

  it('gives every record its own id, stable for the log and different for another log', () => {
    expect(streamEventId(ORIGIN, 1)).toBe(streamEventId(ORIGIN, 1));
    expect(streamEventId(ORIGIN, 1)).not.toBe(streamEventId(ORIGIN, 2));
    expect(streamEventId(ORIGIN, 1)).not.toBe(streamEventId('other.example/audit', 1));
    expect(streamEventId(ORIGIN, 1)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
