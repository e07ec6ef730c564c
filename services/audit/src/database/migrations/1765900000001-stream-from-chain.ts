import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The security teams' stream is published from the chain with a cursor (`stream/audit-stream.ts`)
 * instead of through the outbox. Records already in the log have their message in the outbox,
 * published or about to be, so the stream's cursor starts after them.
 */
export class StreamFromChain1765900000001 implements MigrationInterface {
  name = 'StreamFromChain1765900000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `INSERT INTO audit_siem_cursors (destination, last_sequence)
       SELECT 'kafka:rampart.audit.v1', coalesce(max(sequence), 0) FROM audit_records
       ON CONFLICT (destination) DO NOTHING`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM audit_siem_cursors WHERE destination = 'kafka:rampart.audit.v1'`,
    );
  }
}
