import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which root key wrapped each key version: root rotation rewraps the rows whose `wrapped_by` is
 * not the current root's id. Rows from before this column stay NULL until the first rotation pass
 * rewraps them (the current root unwraps them, so that pass only records the id).
 */
export class RootKeyWrappedBy1764300000000 implements MigrationInterface {
  name = 'RootKeyWrappedBy1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE key_versions ADD COLUMN wrapped_by text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE key_versions DROP COLUMN wrapped_by`);
  }
}
