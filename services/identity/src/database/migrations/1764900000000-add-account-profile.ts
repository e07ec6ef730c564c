import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Profile attributes a person edits in the account centre and a provisioning system sets through
 * SCIM (name parts, display name, the provisioner's own id), and a version counter that SCIM
 * exposes as the resource's ETag and that every change to an account increments.
 */
export class AddAccountProfile1764900000000 implements MigrationInterface {
  name = 'AddAccountProfile1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE accounts
        ADD COLUMN given_name   text CHECK (char_length(given_name) <= 256),
        ADD COLUMN family_name  text CHECK (char_length(family_name) <= 256),
        ADD COLUMN display_name text CHECK (char_length(display_name) <= 256),
        ADD COLUMN external_id  text CHECK (char_length(external_id) <= 256),
        ADD COLUMN version      integer NOT NULL DEFAULT 1 CHECK (version > 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE accounts
        DROP COLUMN version, DROP COLUMN external_id, DROP COLUMN display_name,
        DROP COLUMN family_name, DROP COLUMN given_name`);
  }
}
