import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Merkle tree over `audit_records` (ADR 0023): one row per complete perfect subtree, `level`
 * 0 being the leaves (leaf `index` i is the record with sequence i + 1). Rows are written in the
 * transaction that appends the records they cover and are never changed: as for the records, a
 * trigger refuses UPDATE, DELETE and TRUNCATE and the service's role gives those privileges up.
 */
export class CreateAuditMerkleSubtrees1765300000000 implements MigrationInterface {
  name = 'CreateAuditMerkleSubtrees1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_merkle_subtrees (
        level smallint NOT NULL CHECK (level >= 0 AND level < 64),
        index bigint   NOT NULL CHECK (index >= 0),
        hash  bytea    NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (level, index)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION audit_merkle_subtrees_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_merkle_subtrees is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_merkle_subtrees_no_update_or_delete
        BEFORE UPDATE OR DELETE ON audit_merkle_subtrees
        FOR EACH ROW EXECUTE FUNCTION audit_merkle_subtrees_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_merkle_subtrees_no_truncate
        BEFORE TRUNCATE ON audit_merkle_subtrees
        FOR EACH STATEMENT EXECUTE FUNCTION audit_merkle_subtrees_append_only()`);
    await queryRunner.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON audit_merkle_subtrees FROM PUBLIC, CURRENT_USER`,
    );
  }

  down(): Promise<void> {
    return Promise.reject(
      new Error('the audit Merkle tree is append-only: its migration is not reversible'),
    );
  }
}
