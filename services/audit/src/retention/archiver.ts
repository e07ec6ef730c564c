import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { AuditRetentionEvents } from '@rampart/contracts';
import type { Outbox } from '@rampart/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { checkpointStore } from '../checkpoints/checkpoint-store.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_LOG_FILE,
  ARCHIVE_MANIFEST_FILE,
  archiveValid,
  fileLines,
  verifyArchiveDirectory,
  type ArchiveManifest,
} from '../export/archive-bundle.js';
import { verifyExportFile } from '../export/export-file.js';
import { proofHeader } from '../export/ndjson-export.js';
import { readExportLines } from '../query/audit-query.repository.js';
import { siemCursorRepository } from '../siem/siem-cursor.repository.js';
import { archiveRepository } from './archive.repository.js';
import type { RetentionPolicy } from './retention.config.js';

/** Records read per query while writing an archive. */
const BATCH = 1_000;

/** A transaction-level advisory lock: one replica runs retention at a time. */
const RETENTION_LOCK = [0x61756469, 0x72746e31] as const; // "audi", "rtn1"

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

/** Ranges are contiguous and never overlap, so the range names the archive. */
export const archiveId = (first: number, last: number): string => `seq-${first}-${last}`;

/**
 * Writes the archive bundle of the records `after + 1` to `last` (a signed checkpoint's size)
 * under `directory`, reads it back and verifies it like `rampart audit verify --file` does, and
 * only then gives it its final name. A bundle already there under that name (a run that wrote it
 * and failed before recording it) is verified and kept: the records of a range never change.
 */
export async function writeArchive(
  db: Pick<EntityManager, 'query'>,
  directory: string,
  range: { after: number; last: number },
  options: { verifierKey?: string | undefined; now?: Date } = {},
): Promise<ArchiveManifest> {
  const id = archiveId(range.after + 1, range.last);
  const final = join(directory, id);
  const exists = await stat(final).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const partial = join(directory, `${id}.partial`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const out = createWriteStream(join(partial, ARCHIVE_LOG_FILE), { encoding: 'utf8' });
    const write = (text: string) =>
      out.write(text) ? Promise.resolve() : new Promise<void>((done) => out.once('drain', done));
    try {
      await write(await proofHeader(db, range.after, range.last));
      for (let after = range.after; after < range.last;) {
        const lines = await readExportLines(db, after, Math.min(BATCH, range.last - after));
        if (lines.length === 0) throw new ArchiveError(`the log has no record after ${after}`);
        for (const line of lines) {
          // Archives follow one another, and only archived records are pruned.
          if (!('record' in line)) throw new ArchiveError(`record ${line.sequence} is pruned`);
          await write(`${JSON.stringify(line)}\n`);
        }
        after = lines.at(-1)!.sequence;
      }
    } finally {
      out.end();
      await finished(out);
    }
    // No manifest yet: the log is checked on its own here, and the manifest made from it.
    const written = await verifyExportFile(fileLines(join(partial, ARCHIVE_LOG_FILE)), options);
    if (
      !written.chain.valid ||
      !written.merkle.checked ||
      !written.checkpoints.valid ||
      written.checkpoints.latestSize !== range.last ||
      written.range?.first !== range.after + 1 ||
      written.range.last !== range.last
    ) {
      throw new ArchiveError(`archive ${id} did not verify after writing; nothing is pruned`);
    }
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      id,
      firstSequence: range.after + 1,
      lastSequence: range.last,
      checkpointSize: range.last,
      sha256: written.sha256,
      createdAt: (options.now ?? new Date()).toISOString(),
    };
    await writeFile(join(partial, ARCHIVE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partial, final);
  }
  const verified = await verifyArchiveDirectory(final, options);
  if (!archiveValid(verified) || verified.manifest?.id !== id) {
    throw new ArchiveError(`archive ${id} does not verify; nothing is pruned`);
  }
  return verified.manifest;
}

export interface RetentionRun {
  /** The archive written in this run, if any. */
  archived: ArchiveManifest | undefined;
  /** Records pruned in this run, per class. */
  pruned: { classUid: number; pruned: number }[];
}

/**
 * One retention run (ADR 0025), in one transaction under a try-lock (another replica running it
 * makes this one skip): archive the records up to the first signed checkpoint at or after the
 * newest record past its retention (up to the latest checkpoint while none reaches it yet: the
 * rest follows in a later run; at most `maxRecords` of them, unless checkpoints are further apart),
 * record the archive, prune what archives hold and is due, and
 * write the `archived` and `pruned` events with it.
 */
export async function runRetention(
  dataSource: DataSource,
  outbox: Pick<Outbox, 'write'>,
  options: {
    directory: string;
    policy: RetentionPolicy;
    /** The most records one run archives (AUDIT_ARCHIVE_MAX_RECORDS). */
    maxRecords: number;
    verifierKey?: string | undefined;
    now?: Date;
  },
): Promise<RetentionRun | undefined> {
  return dataSource.transaction(async (transaction) => {
    const [lock] = await transaction.query<{ locked: boolean }[]>(
      `SELECT pg_try_advisory_xact_lock($1, $2) AS locked`,
      [...RETENTION_LOCK],
    );
    if (!lock?.locked) return undefined;
    let archived: ArchiveManifest | undefined;
    const after = await archiveRepository.lastArchived(transaction);
    const newestDue = await archiveRepository.newestDueAfter(transaction, after, options.policy);
    // The first checkpoint that covers every due record; until one is signed, the latest one.
    let closing =
      newestDue === undefined
        ? undefined
        : ((await checkpointStore.readAfter(transaction, newestDue - 1, 1))[0] ??
          (await checkpointStore.latest(transaction)));
    // A backlog (retention switched on over a long log) is archived a bounded piece per run, so
    // no run holds its transaction for hours; a gap between checkpoints wider than the bound is
    // archived whole, since a range must end at a checkpoint.
    if (closing && closing.size - after > options.maxRecords) {
      closing =
        (await checkpointStore.largestBetween(transaction, after, after + options.maxRecords)) ??
        closing;
    }
    if (closing && closing.size > after) {
      archived = await writeArchive(
        transaction,
        options.directory,
        { after, last: closing.size },
        { verifierKey: options.verifierKey, ...(options.now ? { now: options.now } : {}) },
      );
      await archiveRepository.insert(transaction, {
        id: archived.id,
        firstSequence: archived.firstSequence,
        lastSequence: archived.lastSequence,
        checkpointSize: archived.checkpointSize,
        sha256: Buffer.from(archived.sha256, 'hex'),
        createdAt: new Date(archived.createdAt),
      });
      await outbox.write(transaction, AuditRetentionEvents.archived, {
        subject: archived.id,
        data: {
          archiveId: archived.id,
          firstSequence: archived.firstSequence,
          lastSequence: archived.lastSequence,
          checkpointSize: archived.checkpointSize,
          sha256: archived.sha256,
        },
      });
    }
    // The stream and the syslog forwarder publish from the chain: a record is pruned only once
    // every destination with a cursor has been given it (a retired destination's cursor row
    // must be deleted, or it holds pruning back).
    const delivered = await siemCursorRepository.slowest(transaction);
    const pruned = await archiveRepository.prune(
      transaction,
      options.policy,
      delivered ?? Number.MAX_SAFE_INTEGER,
    );
    const total = pruned.reduce((sum, entry) => sum + entry.pruned, 0);
    if (total > 0) {
      const cutoff = (classUid: number) =>
        (options.policy.cutoffs.get(classUid) ?? options.policy.defaultCutoff).toISOString();
      await outbox.write(transaction, AuditRetentionEvents.pruned, {
        subject: 'audit-retention',
        data: {
          classes: pruned.map((entry) => ({ ...entry, before: cutoff(entry.classUid) })),
          total,
        },
      });
    }
    return { archived, pruned };
  });
}
