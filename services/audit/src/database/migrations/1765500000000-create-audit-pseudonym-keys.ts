import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The keys of the HMAC that pseudonymises identifiers in audit records (ADR 0024), stored only
 * wrapped by the audit service's key in key-management. A row is never changed or deleted: the
 * records name the key id they were pseudonymised with, and losing a key would make every record
 * it pseudonymised unreachable by a query for the person.
 */
export class CreateAuditPseudonymKeys1765500000000 implements MigrationInterface {
  name = 'CreateAuditPseudonymKeys1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_pseudonym_keys (
        id          integer PRIMARY KEY CHECK (id > 0),
        kms_key     text NOT NULL,
        wrapped_key bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON audit_pseudonym_keys FROM PUBLIC, CURRENT_USER`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_pseudonym_keys`);
  }
}
