import type { EntityManager } from 'typeorm';

/** Either a data source or a transaction: anything that runs a query. */
type Queryable = Pick<EntityManager, 'query'>;

/** The only place that builds queries on `audit_siem_cursors`. */
export const siemCursorRepository = {
  /**
   * Takes or renews `holder`'s lease on `destination` for `leaseMs` and answers the sequence
   * last known received there (0 before the first record). Undefined when another replica holds
   * a lease that has not run out, or is in a round right now (the row stays locked until this
   * transaction ends, and a locked row is skipped rather than waited for).
   */
  async claim(
    transaction: Queryable,
    destination: string,
    holder: string,
    leaseMs: number,
  ): Promise<number | undefined> {
    await transaction.query(
      `INSERT INTO audit_siem_cursors (destination) VALUES ($1) ON CONFLICT DO NOTHING`,
      [destination],
    );
    const [row] = await transaction.query<{ last_sequence: string; taken: boolean }[]>(
      `SELECT last_sequence, holder IS NOT NULL AND holder <> $2 AND held_until > now() AS taken
         FROM audit_siem_cursors WHERE destination = $1
          FOR UPDATE SKIP LOCKED`,
      [destination, holder],
    );
    if (!row || row.taken) return undefined;
    await transaction.query(
      `UPDATE audit_siem_cursors
          SET holder = $2, held_until = now() + $3 * interval '1 millisecond'
        WHERE destination = $1`,
      [destination, holder, leaseMs],
    );
    return Number(row.last_sequence);
  },

  async advance(transaction: Queryable, destination: string, sequence: number): Promise<void> {
    await transaction.query(
      `UPDATE audit_siem_cursors SET last_sequence = $2, forwarded_at = now()
        WHERE destination = $1`,
      [destination, sequence],
    );
  },

  /** Gives up `holder`'s lease, so another replica may forward at once. */
  async release(transaction: Queryable, destination: string, holder: string): Promise<void> {
    await transaction.query(
      `UPDATE audit_siem_cursors SET holder = NULL, held_until = NULL
        WHERE destination = $1 AND holder = $2`,
      [destination, holder],
    );
  },

  /** The last sequence every destination has been given (undefined without destinations). */
  async slowest(db: Queryable): Promise<number | undefined> {
    const [row] = await db.query<{ slowest: string | null }[]>(
      `SELECT min(last_sequence) AS slowest FROM audit_siem_cursors`,
    );
    return row?.slowest === null || row?.slowest === undefined ? undefined : Number(row.slowest);
  },

  /** The sequence last known received, without locking; undefined before the first round. */
  async position(db: Queryable, destination: string): Promise<number | undefined> {
    const rows = await db.query<{ last_sequence: string }[]>(
      `SELECT last_sequence FROM audit_siem_cursors WHERE destination = $1`,
      [destination],
    );
    return rows[0] ? Number(rows[0].last_sequence) : undefined;
  },
};
