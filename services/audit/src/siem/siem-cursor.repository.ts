import type { EntityManager } from 'typeorm';

/** Either a data source or a transaction: anything that runs a query. */
type Queryable = Pick<EntityManager, 'query'>;

/** The only place that builds queries on `audit_siem_cursors`. */
export const siemCursorRepository = {
  /**
   * Locks `destination`'s cursor until the transaction ends (creating it at 0, before the first
   * record) and answers its last forwarded sequence; undefined when another replica holds it, so
   * one replica forwards to a destination at a time and the others skip the round.
   */
  async claim(transaction: Queryable, destination: string): Promise<number | undefined> {
    await transaction.query(
      `INSERT INTO audit_siem_cursors (destination) VALUES ($1) ON CONFLICT DO NOTHING`,
      [destination],
    );
    const rows = await transaction.query<{ last_sequence: string }[]>(
      `SELECT last_sequence FROM audit_siem_cursors WHERE destination = $1
          FOR UPDATE SKIP LOCKED`,
      [destination],
    );
    return rows[0] ? Number(rows[0].last_sequence) : undefined;
  },

  async advance(transaction: Queryable, destination: string, sequence: number): Promise<void> {
    await transaction.query(
      `UPDATE audit_siem_cursors SET last_sequence = $2, forwarded_at = now()
        WHERE destination = $1`,
      [destination, sequence],
    );
  },

  /** The last forwarded sequence, without locking; undefined before the first round. */
  async position(db: Queryable, destination: string): Promise<number | undefined> {
    const rows = await db.query<{ last_sequence: string }[]>(
      `SELECT last_sequence FROM audit_siem_cursors WHERE destination = $1`,
      [destination],
    );
    return rows[0] ? Number(rows[0].last_sequence) : undefined;
  },
};
