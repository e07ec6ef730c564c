import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { appendToChain } from '../chain/chain-appender.js';
import { testRecord } from '../testing/records.js';
import { ed25519NoteSigner, signCheckpoint, verifierKey } from '../transparency/checkpoint.js';
import { signCheckpointIfDue } from './checkpoint-store.js';
import { verifyTree } from './merkle-verifier.js';
import { openAuditTestDatabase, type AuditTestDatabase } from '../testing/audit-database.js';

const ORIGIN = 'verify.test/audit';

describe('verification of the Merkle tree and the checkpoints', () => {
  let log: AuditTestDatabase;
  let dataSource: DataSource;
  const signer = ed25519NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const logKey = verifierKey(ORIGIN, signer.publicKey);
  const policy = { origin: ORIGIN, everyRecords: 1, everySeconds: 3600 };
  const asAdmin = (statements: [string, unknown[]?][]) =>
    log.asAdmin(statements.map(([sql, parameters]) => [sql, parameters ?? []]));

  const append = (count: number) =>
    dataSource.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: count }, () => testRecord()),
      ),
    );

  beforeAll(async () => {
    log = await openAuditTestDatabase();
    dataSource = log.dataSource;
  });

  afterAll(async () => {
    await log?.close();
  });

  // 13 records in three checkpoints (3, 8, 13), checked in batches of 4 rows.
  beforeEach(async () => {
    await log.emptyLog();
    for (const count of [3, 5, 5]) {
      await append(count);
      await signCheckpointIfDue(dataSource, signer, policy);
    }
  });

  const verify = (key: string | null = logKey) =>
    verifyTree(dataSource, { batchSize: 4, verifierKey: key ?? undefined });

  it('finds an intact tree and intact checkpoints', async () => {
    expect(await verify()).toEqual({
      merkle: { valid: true, leaves: 13, root: expect.stringMatching(/^[0-9a-f]{64}$/) },
      checkpoints: { valid: true, checked: 3, signaturesChecked: true, latestSize: 13 },
    });
    expect((await verify(null)).checkpoints).toMatchObject({ signaturesChecked: false });
  });

  it('reports an empty log as valid', async () => {
    await log.emptyLog();
    expect(await verify()).toEqual({
      merkle: { valid: true, leaves: 0, root: expect.any(String) },
      checkpoints: { valid: true, checked: 0, signaturesChecked: true, latestSize: null },
    });
  });

  it('finds a modified subtree row', async () => {
    await asAdmin([
      [`UPDATE audit_merkle_subtrees SET hash = sha256(hash) WHERE level = 1 AND index = 2`],
    ]);
    expect((await verify()).merkle).toEqual({
      valid: false,
      level: 1,
      index: 2,
      problem: 'modified',
    });
  });

  it('finds a missing and an unexpected subtree row', async () => {
    await asAdmin([[`DELETE FROM audit_merkle_subtrees WHERE level = 2 AND index = 1`]]);
    expect((await verify()).merkle).toEqual({
      valid: false,
      level: 2,
      index: 1,
      problem: 'missing',
    });
    await asAdmin([
      [`INSERT INTO audit_merkle_subtrees VALUES (2, 1, sha256('x'))`],
      [`INSERT INTO audit_merkle_subtrees VALUES (0, 13, sha256('x'))`],
    ]);
    expect((await verify()).merkle).toEqual({
      valid: false,
      level: 0,
      index: 13,
      problem: 'unexpected',
    });
  });

  it('finds a record rewritten together with its leaf, and the checkpoints no longer match', async () => {
    await asAdmin([
      [
        `UPDATE audit_records SET record = replace(record, '"subject-1"', '"subject-x"') WHERE sequence = 5`,
      ],
    ]);
    const result = await verify();
    expect(result.merkle).toEqual({ valid: false, level: 0, index: 4, problem: 'modified' });
    expect(result.checkpoints).toEqual({ valid: false, firstBadSize: 8, problem: 'root' });
  });

  it('finds a checkpoint forged with another key, and one whose columns differ from its note', async () => {
    const forger = ed25519NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const time = new Date();
    const root = Buffer.alloc(32, 7);
    const note = await signCheckpoint({ origin: ORIGIN, size: 13, root, time }, forger);
    await asAdmin([
      [
        `UPDATE audit_checkpoints SET root = $1, note = $2, signed_at = $3 WHERE size = 13`,
        [root, note, time.toISOString()],
      ],
    ]);
    expect((await verify()).checkpoints).toEqual({
      valid: false,
      firstBadSize: 13,
      problem: 'signature',
    });
    // Without the log key the forged root is still caught against the records.
    expect((await verify(null)).checkpoints).toEqual({
      valid: false,
      firstBadSize: 13,
      problem: 'root',
    });
    await asAdmin([[`UPDATE audit_checkpoints SET root = sha256(root) WHERE size = 3`]]);
    expect((await verify()).checkpoints).toEqual({
      valid: false,
      firstBadSize: 3,
      problem: 'note',
    });
  });
});
