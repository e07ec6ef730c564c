import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AUDIT_STREAM_KEY,
  AuditStreamTopic,
  cloudEventSchema,
  LoginEvents,
} from '@rampart/contracts';
import type { IncomingMessage } from '@rampart/platform';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { appendToChain } from '../chain/chain-appender.js';
import { entryHash } from '../chain/chain-hash.js';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { testRecord } from '../testing/records.js';

interface StreamData {
  sequence: number;
  previousHash: string;
  hash: string;
  record: Record<string, unknown>;
}

interface StoredRow {
  sequence: string;
  event_id: string;
  record: string;
  previous_hash: Buffer;
  hash: Buffer;
}

describe("the security teams' stream, rampart.audit.v1", () => {
  let audit: AuditHarness;
  /** What a consumer of the topic received, in order. */
  const received: IncomingMessage[] = [];

  const chain = () =>
    audit.admin<StoredRow>(
      `SELECT sequence, event_id, record, previous_hash, hash FROM audit_records ORDER BY sequence`,
    );
  const streamed = () =>
    received.map((message) => JSON.parse(message.value!) as { id: string; data: StreamData });

  async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (const deadline = Date.now() + 10_000; !(await condition());) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(25);
    }
  }

  beforeAll(async () => {
    audit = await startAudit();
    await audit.service.messaging!.transport.subscribe({
      group: 'test.security-team',
      topics: [AuditStreamTopic.name],
      handleBatch: (messages) => {
        received.push(...messages);
        return Promise.resolve();
      },
    });
  });

  afterAll(async () => {
    await audit?.stop();
  });

  it('publishes every record appended through ingest, with the sequence, hashes and record of the chain', async () => {
    // Events through the service's own outbox, the relay and the ingest consumer: a sign-in
    // failure from "identity" and a query of the log (which is itself audited).
    const accountId = randomUUID();
    await audit.service.dataSource!.transaction((transaction) =>
      audit.service.messaging!.outbox.write(transaction, LoginEvents.failed, {
        subject: accountId,
        data: { reason: 'unknown-user', ip: '203.0.113.9' },
      }),
    );
    const asked = await audit.get(
      '/audit/v1/events?limit=1',
      await audit.token('siem', 'audit:read'),
    );
    expect(asked.status).toBe(200);
    await until(async () => (await chain()).length >= 3, 'three records in the chain');
    const rows = await chain();
    await until(
      () => streamed().at(-1)?.data.sequence === rows.length,
      'the stream to catch up with the chain',
    );
    // All of them, in order, or all but the service's start when the stream published that
    // before this consumer subscribed.
    const seen = streamed();
    const first = seen[0]!.data.sequence;
    expect([1, 2]).toContain(first);
    expect(seen.map((message) => message.data.sequence)).toEqual(
      rows.slice(first - 1).map((row) => Number(row.sequence)),
    );
    expect(received.every((message) => message.key === AUDIT_STREAM_KEY)).toBe(true);
    expect(new Set(seen.map((message) => message.id)).size).toBe(seen.length);

    for (const message of seen) {
      const row = rows[message.data.sequence - 1]!;
      expect(cloudEventSchema.safeParse(message).success).toBe(true);
      expect(message).toMatchObject({
        type: 'rampart.audit.record.appended',
        source: '/rampart/audit',
        subject: AUDIT_STREAM_KEY,
      });
      expect(message.data).toEqual({
        sequence: Number(row.sequence),
        previousHash: row.previous_hash.toString('hex'),
        hash: row.hash.toString('hex'),
        record: JSON.parse(row.record),
      });
      // What a consumer does: recompute the hash from the message alone, and link it.
      const { sequence, previousHash, hash, record } = message.data;
      expect(entryHash(sequence, previousHash, record).toString('hex')).toBe(hash);
      if (sequence > 1) expect(previousHash).toBe(rows[sequence - 2]!.hash.toString('hex'));
    }
    // Nothing of the stream goes through the outbox any more.
    expect(
      await audit.admin(`SELECT 1 FROM outbox WHERE topic = $1`, [AuditStreamTopic.name]),
    ).toEqual([]);
    const types = rows.map(
      (row) => (JSON.parse(row.record) as { metadata: { event_code: string } }).metadata.event_code,
    );
    expect(types).toEqual([
      'rampart.audit.lifecycle.started',
      'rampart.identity.login.failed',
      'rampart.audit.query.performed',
    ]);
  });

  it('never publishes a record that was not committed', async () => {
    const before = (await chain()).length;
    const abandoned = testRecord({ subject: 'rolled-back' });
    await expect(
      audit.service.dataSource!.transaction(async (transaction) => {
        await appendToChain(transaction, [abandoned]);
        throw new Error('the append is rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const kept = testRecord({ subject: 'committed' });
    await audit.service.dataSource!.transaction((transaction) =>
      appendToChain(transaction, [kept]),
    );
    await until(
      () =>
        streamed().some(
          (message) =>
            message.data.record['target'] !== undefined &&
            (message.data.record['target'] as { uid: string }).uid === 'committed',
        ),
      'the committed record on the stream',
    );
    expect(
      streamed().some((message) => JSON.stringify(message).includes(abandoned.metadata.uid)),
    ).toBe(false);
    const last = streamed().at(-1)!.data;
    expect(last.sequence).toBe(before + 1);
    expect((await chain()).length).toBe(before + 1);
  });

  it('is not ingested by the audit service itself (no record of a record, no loop)', async () => {
    const settled = (await chain()).length;
    await sleep(500);
    const rows = await chain();
    expect(rows).toHaveLength(settled);
    expect(rows.some((row) => row.record.includes('rampart.audit.record.appended'))).toBe(false);
    const deadLetters = await audit.admin(`SELECT 1 FROM outbox WHERE topic LIKE '%.dlq'`);
    expect(deadLetters).toEqual([]);
  });
});
