import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { testRecord } from '../testing/records.js';
import { appendToChain } from './chain-appender.js';
import { canonicalJson, entryHash, GENESIS_HASH } from './chain-hash.js';
import { openAuditTestDatabase, type AuditTestDatabase } from '../testing/audit-database.js';

interface Row {
  sequence: string;
  event_id: string;
  record: string;
  previous_hash: Buffer;
  hash: Buffer;
}

describe('the chain appender', () => {
  let log: AuditTestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    log = await openAuditTestDatabase(12);
    dataSource = log.dataSource;
  });

  afterAll(async () => {
    await log?.close();
  });

  // Each test starts from an empty log.
  beforeEach(async () => {
    await log.emptyLog();
  });

  const rows = () =>
    dataSource.query<Row[]>(
      `SELECT sequence, event_id, record, previous_hash, hash FROM audit_records ORDER BY sequence`,
    );

  /** Every row recomputed from scratch: gapless from 1, linked, hashes as documented. */
  function expectIntactChain(found: Row[]): void {
    let previous = GENESIS_HASH;
    found.forEach((row, index) => {
      expect(Number(row.sequence)).toBe(index + 1);
      expect(row.previous_hash.toString('hex')).toBe(previous);
      const record: unknown = JSON.parse(row.record);
      expect(row.record).toBe(canonicalJson(record));
      expect(row.hash).toEqual(entryHash(index + 1, previous, record));
      previous = row.hash.toString('hex');
    });
  }

  it('chains a batch from the genesis hash, storing the record text exactly as hashed', async () => {
    const records = [testRecord(), testRecord(), testRecord()];
    const result = await dataSource.transaction((transaction) =>
      appendToChain(transaction, records),
    );
    expect(result).toEqual({ appended: [1, 2, 3], skipped: [] });
    const found = await rows();
    expect(found.map((row) => row.event_id)).toEqual(records.map((r) => r.metadata.uid));
    expect(found[0]!.previous_hash).toEqual(Buffer.alloc(32));
    expectIntactChain(found);
  });

  it('continues one head across several appends in one transaction (one batch of the inbox)', async () => {
    await dataSource.transaction(async (transaction) => {
      await appendToChain(transaction, [testRecord()]);
      await appendToChain(transaction, [testRecord(), testRecord()]);
      await appendToChain(transaction, [testRecord()]);
    });
    await dataSource.transaction((transaction) => appendToChain(transaction, [testRecord()]));
    const found = await rows();
    expect(found).toHaveLength(5);
    expectIntactChain(found);
  });

  it('skips a redelivered event, and a repeat within a batch, without breaking the chain', async () => {
    const first = testRecord();
    await dataSource.transaction((transaction) => appendToChain(transaction, [first]));
    const again = { ...testRecord({ eventId: first.metadata.uid }), time: 42 };
    const fresh = testRecord();
    const result = await dataSource.transaction((transaction) =>
      appendToChain(transaction, [again, fresh, fresh]),
    );
    expect(result).toEqual({ appended: [2], skipped: [first.metadata.uid, fresh.metadata.uid] });
    const found = await rows();
    expect(found.map((row) => row.event_id)).toEqual([first.metadata.uid, fresh.metadata.uid]);
    expect((JSON.parse(found[0]!.record) as { time: number }).time).toBe(first.time);
    expectIntactChain(found);
  });

  it('leaves no gap when an appending transaction rolls back', async () => {
    await dataSource.transaction((transaction) => appendToChain(transaction, [testRecord()]));
    await expect(
      dataSource.transaction(async (transaction) => {
        await appendToChain(transaction, [testRecord(), testRecord()]);
        throw new Error('the rest of the batch failed');
      }),
    ).rejects.toThrow('the rest of the batch failed');
    await dataSource.transaction((transaction) => appendToChain(transaction, [testRecord()]));
    const found = await rows();
    expect(found.map((row) => Number(row.sequence))).toEqual([1, 2]);
    expectIntactChain(found);
  });

  it('serialises concurrent writers: gapless sequence numbers, one unbroken chain', async () => {
    const writers = Array.from({ length: 10 }, () =>
      dataSource.transaction(async (transaction) => {
        for (let i = 0; i < 4; i++) await appendToChain(transaction, [testRecord()]);
      }),
    );
    await Promise.all(writers);
    const found = await rows();
    expect(found).toHaveLength(40);
    expectIntactChain(found);
  });

  it('refuses to append outside a transaction', async () => {
    await expect(appendToChain(dataSource.manager, [testRecord()])).rejects.toThrow(
      /needs a transaction/,
    );
  });
});
