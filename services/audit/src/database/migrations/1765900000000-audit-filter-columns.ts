import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The query API's filters on the record's class, outcome and actor become columns, filled by the
 * appender from the hashed record (like `subject` and `service`), in place of the expression
 * indexes of migration 1765400000000. Each of those expressions parsed the record text as jsonb
 * on every insert, five parses a row: half of the database's work when appending (see
 * docs/benchmarks.md, "Audit ingest"). The verifier checks the columns against the record.
 *
 * Rows already in the log get their columns from their own record. That is an UPDATE of an
 * append-only table, so the migration lifts the guard for this statement alone, inside its
 * transaction: the trigger is disabled and the column privilege granted, then both restored.
 * Nothing hashed changes, and a column that disagreed with its record would fail verification.
 */
export class AuditFilterColumns1765900000000 implements MigrationInterface {
  name = 'AuditFilterColumns1765900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE audit_records
        ADD COLUMN class_uid      integer,
        ADD COLUMN status_id      smallint,
        ADD COLUMN actor_user     text,
        ADD COLUMN actor_app_uid  text,
        ADD COLUMN actor_app_name text`);
    await queryRunner.query(
      `ALTER TABLE audit_records DISABLE TRIGGER audit_records_no_update_or_delete`,
    );
    await queryRunner.query(
      `GRANT UPDATE (class_uid, status_id, actor_user, actor_app_uid, actor_app_name)
         ON audit_records TO CURRENT_USER`,
    );
    await queryRunner.query(`
      UPDATE audit_records SET
        class_uid      = (record::jsonb ->> 'class_uid')::integer,
        status_id      = CASE WHEN jsonb_typeof(record::jsonb -> 'status_id') = 'number'
                              THEN (record::jsonb ->> 'status_id')::smallint END,
        actor_user     = CASE WHEN jsonb_typeof(record::jsonb #> '{actor,user,uid}') = 'string'
                              THEN record::jsonb #>> '{actor,user,uid}' END,
        actor_app_uid  = CASE WHEN jsonb_typeof(record::jsonb #> '{actor,app_uid}') = 'string'
                              THEN record::jsonb #>> '{actor,app_uid}' END,
        actor_app_name = CASE WHEN jsonb_typeof(record::jsonb #> '{actor,app_name}') = 'string'
                              THEN record::jsonb #>> '{actor,app_name}' END`);
    await queryRunner.query(
      `REVOKE UPDATE (class_uid, status_id, actor_user, actor_app_uid, actor_app_name)
         ON audit_records FROM CURRENT_USER`,
    );
    await queryRunner.query(
      `ALTER TABLE audit_records ENABLE TRIGGER audit_records_no_update_or_delete`,
    );
    await queryRunner.query(`ALTER TABLE audit_records ALTER COLUMN class_uid SET NOT NULL`);

    for (const name of [
      'audit_records_class_sequence',
      'audit_records_outcome_sequence',
      'audit_records_actor_user_sequence',
      'audit_records_actor_app_uid_sequence',
      'audit_records_actor_app_name_sequence',
    ]) {
      await queryRunner.query(`DROP INDEX ${name}`);
    }
    // Most records have no application actor, and many no user: partial indexes skip them.
    await queryRunner.query(
      `CREATE INDEX audit_records_class_sequence ON audit_records (class_uid, sequence)`,
    );
    await queryRunner.query(
      `CREATE INDEX audit_records_outcome_sequence ON audit_records (status_id, sequence)`,
    );
    for (const column of ['actor_user', 'actor_app_uid', 'actor_app_name']) {
      await queryRunner.query(
        `CREATE INDEX audit_records_${column}_sequence ON audit_records (${column}, sequence)
          WHERE ${column} IS NOT NULL`,
      );
    }
  }

  down(): Promise<void> {
    return Promise.reject(
      new Error('the audit log is append-only: its migration is not reversible'),
    );
  }
}
