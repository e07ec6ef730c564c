import type { EntityManager } from 'typeorm';
import type { RetentionPolicy } from './retention.config.js';

/** Either a data source or a transaction: anything that runs a query. */
type Queryable = Pick<EntityManager, 'query'>;

export interface RecordedArchive {
  id: string;
  firstSequence: number;
  lastSequence: number;
  checkpointSize: number;
  sha256: Buffer;
  createdAt: Date;
}

/** The policy as the prune function and the due-records query take it: parallel arrays. */
const policyParameters = (policy: RetentionPolicy) => [
  [...policy.cutoffs.keys()],
  [...policy.cutoffs.values()].map((cutoff) => cutoff.toISOString()),
  policy.defaultCutoff.toISOString(),
];

/** The only place that builds queries on `audit_archives`, and that prunes. */
export const archiveRepository = {
  /** The last sequence any archive holds (0 before the first). */
  async lastArchived(db: Queryable): Promise<number> {
    const [row] = await db.query<{ last: string | null }[]>(
      `SELECT max(last_sequence) AS last FROM audit_archives`,
    );
    return Number(row?.last ?? 0);
  },

  /** The newest record past its class's retention that no archive holds yet, if any. */
  async newestDueAfter(
    db: Queryable,
    after: number,
    policy: RetentionPolicy,
  ): Promise<number | undefined> {
    const [row] = await db.query<{ newest: string | null }[]>(
      `SELECT max(r.sequence) AS newest FROM audit_records r
        WHERE r.sequence > $4 AND r.record IS NOT NULL
          AND r.occurred_at < coalesce(
                (SELECT p.cutoff FROM unnest($1::integer[], $2::timestamptz[]) AS p(class_uid, cutoff)
                  WHERE p.class_uid = (r.record::jsonb ->> 'class_uid')::integer),
                $3::timestamptz)`,
      [...policyParameters(policy), after],
    );
    return row?.newest === null || row?.newest === undefined ? undefined : Number(row.newest);
  },

  async insert(db: Queryable, archive: RecordedArchive): Promise<void> {
    await db.query(
      `INSERT INTO audit_archives (id, first_sequence, last_sequence, checkpoint_size, sha256, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        archive.id,
        archive.firstSequence,
        archive.lastSequence,
        archive.checkpointSize,
        archive.sha256,
        archive.createdAt.toISOString(),
      ],
    );
  },

  /**
   * Prunes, through the database's one path for it (`audit_prune_records`), every record up to
   * `upTo` that an archive holds and is past its class's retention. Answers the count per class.
   */
  async prune(
    db: Queryable,
    policy: RetentionPolicy,
    upTo: number,
  ): Promise<{ classUid: number; pruned: number }[]> {
    const rows = await db.query<{ pruned_class: number; pruned_count: string }[]>(
      `SELECT pruned_class, pruned_count
         FROM audit_prune_records($1::integer[], $2::timestamptz[], $3::timestamptz, $4::bigint)`,
      [...policyParameters(policy), upTo],
    );
    return rows.map((row) => ({ classUid: row.pruned_class, pruned: Number(row.pruned_count) }));
  },
};
