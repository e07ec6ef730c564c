import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { appendToChain } from '../chain/chain-appender.js';
import { signCheckpointIfDue } from '../checkpoints/checkpoint-store.js';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { testRecord } from '../testing/records.js';
import {
  ed25519NoteSigner,
  openCheckpoint,
  verifierKey,
  type Checkpoint,
} from '../transparency/checkpoint.js';
import { leafData } from '../transparency/merkle-store.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../transparency/merkle-tree.js';

const ORIGIN = 'proofs.test/audit';

describe('checkpoint and proof endpoints', () => {
  let audit: AuditHarness;
  let token: string;
  const { privateKey } = generateKeyPairSync('ed25519');
  // Signed here rather than by key-management (tested in tools/all-in-one): the proofs are what
  // these tests are about, checked against a real signed note.
  const signer = ed25519NoteSigner(ORIGIN, privateKey);
  const logKey = verifierKey(ORIGIN, signer.publicKey);
  const checkpoints: Checkpoint[] = [];

  const append = (count: number) =>
    audit.service.dataSource!.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: count }, () => testRecord()),
      ),
    );

  /** Signs a checkpoint of the tree as it is now and keeps it, opened with the log key. */
  async function checkpoint(): Promise<Checkpoint> {
    const signed = await signCheckpointIfDue(
      audit.service.dataSource!,
      signer,
      { origin: ORIGIN, everyRecords: 1, everySeconds: 3600 },
      {},
    );
    const opened = openCheckpoint(signed!.note, logKey);
    checkpoints.push(opened);
    return opened;
  }

  beforeAll(async () => {
    audit = await startAudit();
    token = await audit.token('auditor', 'audit:read');
    // Sizes that exercise the proofs' shapes: 1 (the service's start), a power of two, odd sizes.
    await checkpoint();
    for (const count of [3, 4, 5, 9]) {
      await append(count);
      await checkpoint();
    }
  });

  afterAll(async () => {
    await audit?.stop();
  });

  it('serves the latest checkpoint: the note as signed and its parts', async () => {
    const answer = await audit.get('/audit/v1/checkpoints/latest', token);
    expect(answer.status).toBe(200);
    const latest = checkpoints.at(-1)!;
    const opened = openCheckpoint(answer.body['note'] as string, logKey);
    expect(opened.size).toBe(latest.size);
    expect(answer.body).toMatchObject({
      origin: ORIGIN,
      size: latest.size,
      rootHash: latest.root.toString('base64'),
      time: latest.time!.toISOString(),
    });
  });

  it('proves every record included in every checkpoint that covers it', async () => {
    const rows = await audit.admin<{ sequence: string; previous_hash: Buffer; record: string }>(
      `SELECT sequence, previous_hash, record FROM audit_records ORDER BY sequence`,
    );
    for (const cp of checkpoints) {
      for (const row of rows.slice(0, cp.size)) {
        const sequence = Number(row.sequence);
        const answer = await audit.get(
          `/audit/v1/proofs/inclusion?sequence=${sequence}&treeSize=${cp.size}`,
          token,
        );
        expect(answer.status).toBe(200);
        const leaf = leafHash(leafData(sequence, row.previous_hash, row.record));
        expect(answer.body['leafHash']).toBe(leaf.toString('base64'));
        expect(answer.body['leafIndex']).toBe(sequence - 1);
        const proof = (answer.body['proof'] as string[]).map((h) => Buffer.from(h, 'base64'));
        expect(verifyInclusion(leaf, sequence - 1, cp.size, proof, cp.root)).toBe(true);
        // The same proof does not show another record there.
        const other = leafHash(Buffer.from('not this record'));
        expect(verifyInclusion(other, sequence - 1, cp.size, proof, cp.root)).toBe(false);
      }
    }
  });

  it('proves every checkpoint consistent with every later one', async () => {
    for (const [i, older] of checkpoints.entries()) {
      for (const newer of checkpoints.slice(i)) {
        const answer = await audit.get(
          `/audit/v1/proofs/consistency?from=${older.size}&to=${newer.size}`,
          token,
        );
        expect(answer.status).toBe(200);
        const proof = (answer.body['proof'] as string[]).map((h) => Buffer.from(h, 'base64'));
        expect(verifyConsistency(older.size, newer.size, proof, older.root, newer.root)).toBe(true);
      }
    }
  });

  it.each([
    '/audit/v1/proofs/inclusion?sequence=0&treeSize=3',
    '/audit/v1/proofs/inclusion?sequence=4&treeSize=3',
    '/audit/v1/proofs/inclusion?sequence=abc&treeSize=3',
    '/audit/v1/proofs/inclusion?sequence=1',
    '/audit/v1/proofs/inclusion?sequence=1&treeSize=99999',
    '/audit/v1/proofs/inclusion?sequence=1&treeSize=2&extra=1',
    '/audit/v1/proofs/consistency?from=5&to=3',
    '/audit/v1/proofs/consistency?from=1.5&to=3',
    '/audit/v1/proofs/consistency?from=1&to=99999',
    '/audit/v1/proofs/consistency',
  ])('answers problem+json 400 to %s', async (path) => {
    const answer = await audit.get(path, token);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it.each([
    '/audit/v1/checkpoints/latest',
    '/audit/v1/proofs/inclusion?sequence=1&treeSize=1',
    '/audit/v1/proofs/consistency?from=1&to=1',
  ])('needs a token with audit:read for %s', async (path) => {
    expect((await audit.get(path)).status).toBe(401);
    expect((await audit.get(path, await audit.token('someone', 'other'))).status).toBe(403);
  });

  it('adds the tree and the checkpoints to GET /audit/v1/verify, keeping the chain fields', async () => {
    const answer = await audit.get('/audit/v1/verify', token);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      valid: true,
      records: checkpoints.at(-1)!.size,
      head: expect.any(String),
      merkle: { valid: true, leaves: checkpoints.at(-1)!.size },
      // The service runs without key-management here: no log key to check signatures with.
      checkpoints: { valid: true, checked: checkpoints.length, signaturesChecked: false },
    });
  });
});
