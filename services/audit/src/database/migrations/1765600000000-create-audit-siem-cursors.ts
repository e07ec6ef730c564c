import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far the SIEM forwarder got (docs/architecture/audit.md, "SIEM forwarding"): per
 * destination, the sequence of the last record known received, so a restart resumes after it;
 * and which replica forwards to it (`holder`) until when, so the others stay out while it has a
 * batch in flight, and take over once its lease ran out.
 */
export class CreateAuditSiemCursors1765600000000 implements MigrationInterface {
  name = 'CreateAuditSiemCursors1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_siem_cursors (
        destination   text PRIMARY KEY,
        last_sequence bigint NOT NULL DEFAULT 0 CHECK (last_sequence >= 0),
        forwarded_at  timestamptz,
        holder        text,
        held_until    timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_siem_cursors`);
  }
}
