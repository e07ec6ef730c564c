import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The signed checkpoints of the audit log's Merkle tree (ADR 0023): one per tree size, with its
 * root, the time it was signed and the whole signed note as it was published. Append-only like
 * the records and the tree.
 */
export class CreateAuditCheckpoints1765300000001 implements MigrationInterface {
  name = 'CreateAuditCheckpoints1765300000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_checkpoints (
        size      bigint PRIMARY KEY CHECK (size > 0),
        root      bytea NOT NULL CHECK (octet_length(root) = 32),
        signed_at timestamptz NOT NULL,
        note      text NOT NULL
      )`);
    await queryRunner.query(`
      CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_checkpoints_no_update_or_delete
        BEFORE UPDATE OR DELETE ON audit_checkpoints
        FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_checkpoints_no_truncate
        BEFORE TRUNCATE ON audit_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only()`);
    await queryRunner.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM PUBLIC, CURRENT_USER`,
    );
  }

  down(): Promise<void> {
    return Promise.reject(
      new Error('the audit checkpoints are append-only: their migration is not reversible'),
    );
  }
}
