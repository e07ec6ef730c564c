import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: one row per event, appended in `sequence` order, each row chained to the one
 * before it by `previous_hash` (docs/architecture/audit.md, ADR 0022). Rows are never changed:
 * a trigger refuses UPDATE, DELETE and TRUNCATE whatever the caller's privileges, and the role
 * that runs the migration (the service's own) gives those privileges up as well. The trigger is
 * the guard that counts, because the table's owner could grant the privileges back; the hash
 * chain is what detects a change made anyway, by a superuser who disables the trigger.
 */
export class CreateAuditRecords1765200000000 implements MigrationInterface {
  name = 'CreateAuditRecords1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // `sequence` is assigned by the appender under a lock, never by a PostgreSQL sequence: a
    // rolled-back transaction would leave a gap, indistinguishable from a deleted record.
    await queryRunner.query(`
      CREATE TABLE audit_records (
        sequence      bigint PRIMARY KEY,
        event_id      text NOT NULL UNIQUE,
        event_type    text NOT NULL,
        service       text NOT NULL,
        subject       text NOT NULL,
        occurred_at   timestamptz NOT NULL,
        recorded_at   timestamptz NOT NULL,
        record        text NOT NULL,
        previous_hash bytea NOT NULL,
        hash          bytea NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX audit_records_occurred_at ON audit_records (occurred_at)`,
    );
    await queryRunner.query(`
      CREATE FUNCTION audit_records_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_records is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_records_no_update_or_delete
        BEFORE UPDATE OR DELETE ON audit_records
        FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_records_no_truncate
        BEFORE TRUNCATE ON audit_records
        FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()`);
    await queryRunner.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM PUBLIC, CURRENT_USER`,
    );
  }

  down(): Promise<void> {
    return Promise.reject(
      new Error('the audit log is append-only: its migration is not reversible'),
    );
  }
}
