import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { Outbox } from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { appendToChain } from '../chain/chain-appender.js';
import { verifyChain } from '../chain/chain-verifier.js';
import { signCheckpointIfDue } from '../checkpoints/checkpoint-store.js';
import { verifyTree } from '../checkpoints/merkle-verifier.js';
import { archiveValid, verifyArchiveDirectory } from '../export/archive-bundle.js';
import { verifyExportFile } from '../export/export-file.js';
import { exportNdjson } from '../export/ndjson-export.js';
import { openAuditTestDatabase, type AuditTestDatabase } from '../testing/audit-database.js';
import { testRecord } from '../testing/records.js';
import { ed25519NoteSigner, verifierKey } from '../transparency/checkpoint.js';
import { runRetention } from './archiver.js';
import { siemCursorRepository } from '../siem/siem-cursor.repository.js';
import { retentionPolicy } from './retention.config.js';

const ORIGIN = 'retention.test/audit';
const DAY = 86_400_000;

/** Class, age in days, and whether its class's retention (3002: 400, 6003: 90, else 2190) is past. */
const FIRST_CHECKPOINTED: [number, number, boolean][] = [
  [3002, 500, true],
  [3002, 300, false],
  [6003, 100, true],
  [3004, 1000, false],
  [6003, 10, false],
  [3002, 450, true],
];
/** Appended after the first checkpoint: 7 is due but no checkpoint covers it yet. */
const AFTER: [number, number, boolean][] = [
  [6003, 200, true],
  [3002, 35, false],
];

describe('retention: archive, then prune', () => {
  let log: AuditTestDatabase;
  let dataSource: DataSource;
  let directory: string;
  let outbox: Outbox;
  const signer = ed25519NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const logKey = verifierKey(ORIGIN, signer.publicKey);
  const config = {
    AUDIT_RETENTION_DAYS: 2190,
    AUDIT_RETENTION_CLASS_DAYS: new Map([
      [3002, 400],
      [6003, 90],
    ]),
  };
  const retain = () =>
    runRetention(dataSource, outbox, {
      directory,
      policy: retentionPolicy(config, new Date()),
      verifierKey: logKey,
      maxRecords: 1_000_000,
    });
  const append = (records: [number, number, boolean][]) =>
    dataSource.transaction((transaction) =>
      appendToChain(
        transaction,
        records.map(([classUid, age], index) => ({
          ...testRecord({ classUid, time: Date.now() - age * DAY, subject: `person-${index}` }),
          actor: { user: { uid: `actor-${index}` } },
        })),
      ),
    );
  const checkpoint = () =>
    signCheckpointIfDue(dataSource, signer, { origin: ORIGIN, everyRecords: 1, everySeconds: 1 });
  const rows = () =>
    dataSource.query<
      {
        sequence: string;
        record: string | null;
        subject: string | null;
        leaf_hash: Buffer | null;
        archive_id: string | null;
        actor_user: string | null;
        leaf: Buffer;
      }[]
    >(
      `SELECT r.sequence, r.record, r.subject, r.leaf_hash, r.archive_id, r.actor_user,
              s.hash AS leaf
         FROM audit_records r
         JOIN audit_merkle_subtrees s ON s.level = 0 AND s.index = r.sequence - 1
        ORDER BY r.sequence`,
    );
  const fileOf = (text: string) => Readable.from(text.split('\n')) as AsyncIterable<string>;
  let before: string;

  beforeAll(async () => {
    log = await openAuditTestDatabase();
    dataSource = log.dataSource;
    outbox = new Outbox('audit', log.database.schema, 'default');
    directory = await mkdtemp(join(tmpdir(), 'rampart-archives-'));
    await append(FIRST_CHECKPOINTED);
    await checkpoint();
    await append(AFTER);
    before = (await exportNdjson(dataSource, { after: 0, limit: 100 })).ndjson;
  });

  afterAll(async () => {
    await log?.close();
    await rm(directory, { recursive: true, force: true });
  });

  /** Where the stream of the log has published to: pruning waits for it. */
  const streamed = (sequence: number) =>
    siemCursorRepository.advance(dataSource, 'kafka:rampart.audit.v1', sequence);

  it('archives up to the checkpoint, verifies the bundle, and prunes only the records past their class retention and published', async () => {
    await streamed(2);
    const run = await retain();
    expect(run?.archived).toMatchObject({ id: 'seq-1-6', firstSequence: 1, lastSequence: 6 });
    // Only what the stream has published is pruned: sequence 1, of the three due.
    expect(run?.pruned).toEqual([{ classUid: 3002, pruned: 1 }]);
    await streamed(8);
    const next = await retain();
    expect(next?.archived).toBeUndefined();
    expect(next?.pruned).toEqual([
      { classUid: 3002, pruned: 1 },
      { classUid: 6003, pruned: 1 },
    ]);

    const archive = await verifyArchiveDirectory(join(directory, 'seq-1-6'), {
      verifierKey: logKey,
    });
    expect(archiveValid(archive)).toBe(true);
    expect(archive.checkpoints).toMatchObject({ valid: true, checked: 1, signaturesChecked: true });
    // The bundle holds the records exactly as they were exported before any pruning.
    const archived = (await readFile(join(directory, 'seq-1-6', 'log.ndjson'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{"sequence"'));
    expect(archived).toEqual(before.split('\n').slice(0, 6));

    const after = await rows();
    const due = [...FIRST_CHECKPOINTED, ...AFTER].map(([, , isDue], index) => isDue && index < 6);
    after.forEach((row, index) => {
      if (due[index]) {
        expect({ sequence: row.sequence, record: row.record, subject: row.subject }).toEqual({
          sequence: row.sequence,
          record: null,
          subject: null,
        });
        expect(row.archive_id).toBe('seq-1-6');
        expect(row.leaf_hash).toEqual(row.leaf);
        expect(row.actor_user).toBeNull();
      } else {
        expect({ sequence: row.sequence, pruned: row.record === null }).toEqual({
          sequence: row.sequence,
          pruned: false,
        });
        expect(row.actor_user).toMatch(/^actor-/);
      }
    });

    const events = (
      await dataSource.query<{ payload: string }[]>(
        `SELECT payload::text AS payload FROM outbox WHERE topic = 'rampart.audit.retention.v1' ORDER BY id`,
      )
    ).map((row) => JSON.parse(row.payload) as { type: string; data: unknown });
    expect(events.map((event) => event.type)).toEqual([
      'rampart.audit.retention.archived',
      'rampart.audit.retention.pruned',
      'rampart.audit.retention.pruned',
    ]);
    expect(events[2]!.data).toMatchObject({ total: 2 });
  });

  it('passes `npx rampart audit verify` on the archive and on the pruned database', () => {
    // The operator's command, from the repository root (its package is built before the tests).
    const rampart = (...args: string[]) =>
      spawnSync('npx', ['--no-install', 'rampart', 'audit', 'verify', ...args, '--key', logKey], {
        cwd: resolve(import.meta.dirname, '../../../..'),
        encoding: 'utf8',
      });
    const archive = rampart('--file', join(directory, 'seq-1-6'));
    expect(archive.stdout).toContain('chain: valid, 6 records, head');
    expect(archive.stdout).toContain(
      'checkpoints: valid, 1 checked, latest of size 6, signatures checked',
    );
    expect(archive.stdout).toContain('archive: valid, seq-1-6, sequences 1 to 6\n');
    expect(archive.status).toBe(0);
    const database = rampart('--database-url', log.database.url, '--schema', log.database.schema);
    expect(database.stdout).toContain('chain: valid, 8 records (3 pruned, held by archives), head');
    expect(database.status).toBe(0);
  });

  it('leaves a log that still verifies, in the database and as an export with proofs', async () => {
    expect(await verifyChain(dataSource, { batchSize: 3 })).toEqual({
      valid: true,
      records: 8,
      pruned: 3,
      head: expect.any(String),
    });
    expect(await verifyTree(dataSource, { batchSize: 3, verifierKey: logKey })).toMatchObject({
      merkle: { valid: true, leaves: 8 },
      checkpoints: { valid: true, checked: 1 },
    });
    await checkpoint();
    const exported = await exportNdjson(dataSource, { after: 2, limit: 100, proofs: true });
    const file = await verifyExportFile(fileOf(exported.ndjson), { verifierKey: logKey });
    expect(file.chain).toEqual({ valid: true, records: 6, pruned: 2, head: expect.any(String) });
    expect(file.merkle).toMatchObject({ checked: true, leaves: 8 });
    // The checkpoints of 6 and 8 records both fall in the file's range (3 to 8).
    expect(file.checkpoints).toMatchObject({ valid: true, checked: 2, latestSize: 8 });
  });

  it('archives the next range once a checkpoint covers it, and prunes it', async () => {
    const run = await retain();
    expect(run?.archived).toMatchObject({ id: 'seq-7-8', firstSequence: 7, lastSequence: 8 });
    expect(run?.pruned).toEqual([{ classUid: 6003, pruned: 1 }]);
    expect(archiveValid(await verifyArchiveDirectory(join(directory, 'seq-7-8')))).toBe(true);
    expect(await verifyChain(dataSource)).toMatchObject({ valid: true, records: 8, pruned: 4 });
    // Nothing more is due: a run archives and prunes nothing.
    expect(await retain()).toEqual({ archived: undefined, pruned: [] });
  });

  it('refuses, as the service role, any UPDATE or DELETE that is not a prune through the function', async () => {
    const refused = async (sql: string, parameters: unknown[] = []) => {
      await expect(
        dataSource.transaction(async (transaction) => {
          await transaction.query(sql, parameters);
        }),
      ).rejects.toThrow(/append-only|permission denied/);
    };
    await refused(`UPDATE audit_records SET record = '{}' WHERE sequence = 2`);
    await refused(`UPDATE audit_records SET hash = previous_hash WHERE sequence = 2`);
    await refused(`DELETE FROM audit_records WHERE sequence = 1`);
    await refused(`UPDATE audit_archives SET last_sequence = 8 WHERE id = 'seq-1-6'`);
    // A hand-made prune, even with the function's flag set, of a record no archive holds.
    await append([[3002, 800, true]]);
    const tombstone = `UPDATE audit_records SET record = NULL, subject = NULL, pruned_at = now(),
         archive_id = 'seq-1-6', leaf_hash = (SELECT hash FROM audit_merkle_subtrees
                                               WHERE level = 0 AND index = 8)
       WHERE sequence = 9`;
    await refused(tombstone);
    await refused(`SELECT set_config('rampart.audit_pruning', 'on', true); ${tombstone}`);
    // And the function refuses cutoffs younger than its floor, whatever the caller asks.
    await expect(
      dataSource.query(
        `SELECT * FROM audit_prune_records('{}', '{}', now() - interval '29 days', 100)`,
      ),
    ).rejects.toThrow(/at least 30 days/);
    expect((await rows()).at(-1)?.record).not.toBeNull();
  });

  it('still names tampering around tombstones', async () => {
    await log.asAdmin([
      `UPDATE audit_records SET hash = decode(repeat('ab', 32), 'hex') WHERE sequence = 3`,
    ]);
    expect(await verifyChain(dataSource)).toEqual({
      valid: false,
      firstBadSequence: 3,
      problem: 'modified',
    });
    const original = await readFile(join(directory, 'seq-1-6', 'log.ndjson'), 'utf8');
    const third = JSON.parse(
      original.split('\n').find((line) => line.startsWith('{"sequence":3,'))!,
    ) as {
      hash: string;
    };
    await log.asAdmin([
      [`UPDATE audit_records SET hash = decode($1, 'hex') WHERE sequence = 3`, [third.hash]],
      // A record emptied behind the function's back, naming an archive that does not hold it.
      `UPDATE audit_records SET record = NULL, subject = NULL, pruned_at = now(),
              archive_id = 'seq-1-6', leaf_hash = decode(repeat('00', 32), 'hex')
        WHERE sequence = 8`,
    ]);
    expect(await verifyChain(dataSource)).toEqual({
      valid: false,
      firstBadSequence: 8,
      problem: 'pruned-unarchived',
    });
    expect((await verifyTree(dataSource)).merkle).toMatchObject({
      valid: false,
      level: 0,
      index: 7,
    });
  });

  it('works off a backlog a bounded piece per run, each piece ending at a checkpoint', async () => {
    await log.emptyLog();
    for (let piece = 0; piece < 3; piece += 1) {
      await append([
        [6003, 200, true],
        [6003, 200, true],
      ]);
      await checkpoint();
    }
    const bounded = () =>
      runRetention(dataSource, outbox, {
        directory,
        policy: retentionPolicy(config, new Date()),
        verifierKey: logKey,
        maxRecords: 3,
      });
    const ranges: (string | undefined)[] = [];
    for (let run = 0; run < 4; run += 1) ranges.push((await bounded())?.archived?.id);
    expect(ranges).toEqual(['seq-1-2', 'seq-3-4', 'seq-5-6', undefined]);
    expect(await verifyChain(dataSource)).toMatchObject({ valid: true, records: 6, pruned: 6 });
  });
});
