import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { AuditRecord } from '../chain/audit-record.js';
import { appendToChain } from '../chain/chain-appender.js';
import { canonicalJson, entryHash, GENESIS_HASH } from '../chain/chain-hash.js';
import { verifyChain } from '../chain/chain-verifier.js';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { testRecord } from '../testing/records.js';

const CHAIN_LENGTH = 10;
/** Small batches, so tampering lands on and across batch boundaries. */
const BATCH = 3;

describe('verification of the audit chain', () => {
  let audit: AuditHarness;
  let cleanHead: string;

  /** Statements as the PostgreSQL superuser with the append-only trigger off, in one transaction. */
  async function tamper(statements: [string, unknown[]?][]): Promise<void> {
    const client = new pg.Client({
      connectionString: audit.database.adminUrl,
      options: `-c search_path=${audit.database.schema}`,
    });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
      await client.query('ALTER TABLE audit_merkle_subtrees DISABLE TRIGGER USER');
      for (const [sql, parameters] of statements) await client.query(sql, parameters);
      await client.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
      await client.query('ALTER TABLE audit_merkle_subtrees ENABLE TRIGGER USER');
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }

  async function stored(sequence: number): Promise<{ record: AuditRecord; hash: Buffer }> {
    const [row] = await audit.admin<{ record: string; hash: Buffer }>(
      `SELECT record, hash FROM audit_records WHERE sequence = $1`,
      [sequence],
    );
    return { record: JSON.parse(row!.record) as AuditRecord, hash: row!.hash };
  }

  const verify = () => verifyChain(audit.service.dataSource!, { batchSize: BATCH });

  beforeAll(async () => {
    // Settled on its own start: the service audited its lifecycle event (the harness waits).
    audit = await startAudit();
  });

  afterAll(async () => {
    await audit?.stop();
  });

  beforeEach(async () => {
    await tamper([['TRUNCATE audit_records, audit_merkle_subtrees']]);
    await audit.service.dataSource!.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: CHAIN_LENGTH }, (_, index) =>
          testRecord({ subject: `s-${index + 1}` }),
        ),
      ),
    );
    const clean = await verify();
    expect(clean).toEqual({
      valid: true,
      records: CHAIN_LENGTH,
      pruned: 0,
      head: expect.any(String),
    });
    cleanHead = (clean as { head: string }).head;
    expect(cleanHead).toBe((await stored(CHAIN_LENGTH)).hash.toString('hex'));
  });

  it('reports an empty chain as valid, with the genesis hash as head', async () => {
    await tamper([['TRUNCATE audit_records']]);
    expect(await verify()).toEqual({ valid: true, records: 0, pruned: 0, head: GENESIS_HASH });
  });

  it('finds a modified record', async () => {
    await tamper([
      [`UPDATE audit_records SET record = replace(record, '"s-5"', '"s-x"') WHERE sequence = 5`],
    ]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 5, problem: 'modified' });
  });

  it('finds a column changed beside its hashed record', async () => {
    await tamper([[`UPDATE audit_records SET subject = 'someone-else' WHERE sequence = 7`]]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 7, problem: 'modified' });
  });

  it.each([
    ['class_uid', '3002'],
    ['status_id', '2'],
    ['actor_user', "'someone-else'"],
    ['actor_app_uid', "'another-client'"],
  ])('finds the query filter column %s changed beside its hashed record', async (column, value) => {
    await tamper([[`UPDATE audit_records SET ${column} = ${value} WHERE sequence = 8`]]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 8, problem: 'modified' });
  });

  it('finds a record modified with its hash recomputed (its successor no longer links)', async () => {
    const { record } = await stored(4);
    const forged = { ...record, target: { uid: 's-x', type: 'test' } };
    const previous = (await stored(3)).hash.toString('hex');
    await tamper([
      [
        `UPDATE audit_records SET record = $1, subject = 's-x', hash = $2 WHERE sequence = 4`,
        [canonicalJson(forged), entryHash(4, previous, forged)],
      ],
    ]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 4, problem: 'modified' });
  });

  it('finds a deleted record', async () => {
    await tamper([[`DELETE FROM audit_records WHERE sequence = 6`]]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 6, problem: 'deleted' });
  });

  it('finds a deleted record when the ones after it were renumbered to close the gap', async () => {
    await tamper([
      [`DELETE FROM audit_records WHERE sequence = 6`],
      [`UPDATE audit_records SET sequence = -(sequence - 1) WHERE sequence > 6`],
      [`UPDATE audit_records SET sequence = -sequence WHERE sequence < 0`],
    ]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 6, problem: 'deleted' });
  });

  it('finds two records swapped, across a batch boundary', async () => {
    await tamper([
      [`UPDATE audit_records SET sequence = -1 WHERE sequence = 3`],
      [`UPDATE audit_records SET sequence = 3 WHERE sequence = 4`],
      [`UPDATE audit_records SET sequence = 4 WHERE sequence = -1`],
    ]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 3, problem: 'reordered' });
  });

  it('finds an inserted record, even one with a correctly computed hash', async () => {
    const previous = (await stored(4)).hash.toString('hex');
    const forged = testRecord({ subject: 'planted' });
    await tamper([
      [`UPDATE audit_records SET sequence = -(sequence + 1) WHERE sequence >= 5`],
      [`UPDATE audit_records SET sequence = -sequence WHERE sequence < 0`],
      [
        `INSERT INTO audit_records (sequence, event_id, event_type, service, subject, occurred_at,
                                    recorded_at, record, previous_hash, hash, class_uid)
         VALUES (5, $1, $2, 'audit', 'planted', $3, $4, $5, $6, $7, 6003)`,
        [
          forged.metadata.uid,
          forged.metadata.event_code,
          new Date(forged.time),
          new Date(forged.metadata.logged_time),
          canonicalJson(forged),
          Buffer.from(previous, 'hex'),
          entryHash(5, previous, forged),
        ],
      ],
    ]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 5, problem: 'inserted' });
  });

  it('finds a record slipped in below the first sequence number', async () => {
    const forged = testRecord();
    await tamper([
      [
        `INSERT INTO audit_records (sequence, event_id, event_type, service, subject, occurred_at,
                                    recorded_at, record, previous_hash, hash, class_uid)
         VALUES (0, $1, 'x', 'audit', 'x', now(), now(), $2, $3, $3, 6003)`,
        [forged.metadata.uid, canonicalJson(forged), Buffer.alloc(32)],
      ],
    ]);
    expect(await verify()).toEqual({ valid: false, firstBadSequence: 0, problem: 'inserted' });
  });

  it('cannot see records cut from the end, but the head it reports changes', async () => {
    await tamper([[`DELETE FROM audit_records WHERE sequence = ${CHAIN_LENGTH}`]]);
    const result = await verify();
    expect(result).toMatchObject({ valid: true, records: CHAIN_LENGTH - 1 });
    expect((result as { head: string }).head).not.toBe(cleanHead);
  });

  describe('GET /audit/v1/verify', () => {
    it('answers an access token with audit:read', async () => {
      const token = await audit.token('auditor', 'audit:read');
      const clean = await audit.get('/audit/v1/verify', token);
      expect(clean.status).toBe(200);
      expect(clean.body).toMatchObject({ valid: true, records: CHAIN_LENGTH, head: cleanHead });

      await tamper([[`DELETE FROM audit_records WHERE sequence = 2`]]);
      const broken = await audit.get('/audit/v1/verify', token);
      expect(broken.status).toBe(200);
      expect(broken.body).toMatchObject({ valid: false, firstBadSequence: 2, problem: 'deleted' });
    });

    it('refuses a caller without a token, and a token without audit:read, as problem+json', async () => {
      const anonymous = await audit.get('/audit/v1/verify');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/);

      const unscoped = await audit.get('/audit/v1/verify', await audit.token('someone', 'openid'));
      expect(unscoped.status).toBe(403);
      expect(unscoped.headers.get('content-type')).toMatch(/application\/problem\+json/);
    });

    it('is described in the OpenAPI document', async () => {
      const document = await audit.get('/audit/openapi.json');
      expect(document.status).toBe(200);
      expect(document.body).toMatchObject({ paths: { '/audit/v1/verify': { get: {} } } });
    });
  });
});
