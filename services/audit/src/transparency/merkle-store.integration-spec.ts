import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { appendToChain } from '../chain/chain-appender.js';
import { canonicalJson } from '../chain/chain-hash.js';
import { testRecord } from '../testing/records.js';
import { leafData, merkleStore } from './merkle-store.js';
import { MemoryMerkleTree, rootHash } from './merkle-tree.js';
import { openAuditTestDatabase, type AuditTestDatabase } from '../testing/audit-database.js';

describe('the stored Merkle tree', () => {
  let log: AuditTestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    log = await openAuditTestDatabase(12);
    dataSource = log.dataSource;
  });

  afterAll(async () => {
    await log?.close();
  });

  beforeEach(async () => {
    await log.emptyLog();
  });

  /** The tree an outsider builds from the records, by the documented leaf data. */
  async function rebuilt(): Promise<MemoryMerkleTree> {
    const rows = await dataSource.query<
      { sequence: string; previous_hash: Buffer; record: string }[]
    >(`SELECT sequence, previous_hash, record FROM audit_records ORDER BY sequence`);
    const tree = new MemoryMerkleTree();
    for (const row of rows) {
      const data = canonicalJson({
        sequence: Number(row.sequence),
        previousHash: row.previous_hash.toString('hex'),
        record: JSON.parse(row.record) as unknown,
      });
      tree.append(Buffer.from(data, 'utf8'));
    }
    return tree;
  }

  const storedRoot = async (size: number) =>
    merkleStore.compute(dataSource, size, (tree) => rootHash(tree));

  it('keeps the root of every size equal to the tree rebuilt from the records', async () => {
    const batches = [1, 2, 3, 1, 7, 8, 16, 5, 1, 31, 2];
    for (const size of batches) {
      await dataSource.transaction((transaction) =>
        appendToChain(
          transaction,
          Array.from({ length: size }, () => testRecord()),
        ),
      );
    }
    const total = batches.reduce((sum, size) => sum + size, 0);
    const tree = await rebuilt();
    expect(tree.size).toBe(total);
    expect(await merkleStore.size(dataSource)).toBe(total);
    for (let size = 1; size <= total; size++) {
      expect((await storedRoot(size)).toString('hex')).toBe(rootHash(tree, size).toString('hex'));
    }
  });

  it('extends one tree across several appends in one transaction', async () => {
    await dataSource.transaction(async (transaction) => {
      await appendToChain(transaction, [testRecord()]);
      await appendToChain(transaction, [testRecord(), testRecord(), testRecord()]);
      await appendToChain(transaction, [testRecord(), testRecord()]);
    });
    const tree = await rebuilt();
    expect((await storedRoot(6)).equals(rootHash(tree))).toBe(true);
  });

  it('uses as leaf data the exact bytes the chain hash is computed over', async () => {
    await dataSource.transaction((transaction) =>
      appendToChain(transaction, [testRecord(), testRecord()]),
    );
    const rows = await dataSource.query<
      { sequence: string; previous_hash: Buffer; record: string }[]
    >(`SELECT sequence, previous_hash, record FROM audit_records ORDER BY sequence`);
    for (const row of rows) {
      expect(leafData(Number(row.sequence), row.previous_hash, row.record).toString('utf8')).toBe(
        canonicalJson({
          sequence: Number(row.sequence),
          previousHash: row.previous_hash.toString('hex'),
          record: JSON.parse(row.record) as unknown,
        }),
      );
    }
  });

  it('leaves no subtree rows behind when the append rolls back', async () => {
    await dataSource.transaction((transaction) => appendToChain(transaction, [testRecord()]));
    await expect(
      dataSource.transaction(async (transaction) => {
        await appendToChain(transaction, [testRecord(), testRecord(), testRecord()]);
        throw new Error('the rest of the batch failed');
      }),
    ).rejects.toThrow('the rest of the batch failed');
    const rows = await dataSource.query<{ level: number; index: string }[]>(
      `SELECT level, index FROM audit_merkle_subtrees ORDER BY level, index`,
    );
    expect(rows.map((row) => `${row.level}/${row.index}`)).toEqual(['0/0']);
    await dataSource.transaction((transaction) => appendToChain(transaction, [testRecord()]));
    expect((await storedRoot(2)).equals(rootHash(await rebuilt()))).toBe(true);
  });

  it('serialises concurrent writers into one tree', async () => {
    await Promise.all(
      Array.from({ length: 8 }, () =>
        dataSource.transaction(async (transaction) => {
          for (let i = 0; i < 3; i++) await appendToChain(transaction, [testRecord()]);
        }),
      ),
    );
    expect((await storedRoot(24)).equals(rootHash(await rebuilt()))).toBe(true);
  });

  it('catches up with records chained before the tree existed', async () => {
    await dataSource.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: 11 }, () => testRecord()),
      ),
    );
    await log.asAdmin([`TRUNCATE audit_merkle_subtrees`]);
    await dataSource.transaction((transaction) =>
      appendToChain(transaction, [testRecord(), testRecord()]),
    );
    expect(await merkleStore.size(dataSource)).toBe(13);
    expect((await storedRoot(13)).equals(rootHash(await rebuilt()))).toBe(true);
  });

  it('refuses to change or remove a subtree row', async () => {
    await dataSource.transaction((transaction) => appendToChain(transaction, [testRecord()]));
    await expect(
      dataSource.query(`UPDATE audit_merkle_subtrees SET hash = hash`),
    ).rejects.toThrow();
    await expect(dataSource.query(`DELETE FROM audit_merkle_subtrees`)).rejects.toThrow();
  });
});
