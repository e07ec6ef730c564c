import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Keys and their versions. Version material is stored only wrapped by the root key. */
export class CreateKeys1764100000000 implements MigrationInterface {
  name = 'CreateKeys1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE keys (
        name                   text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
        purpose                text NOT NULL CHECK (purpose IN ('ENCRYPT_DECRYPT')),
        primary_version        int NOT NULL,
        min_decryption_version int NOT NULL DEFAULT 1,
        created_at             timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE key_versions (
        key_name         text NOT NULL REFERENCES keys (name),
        version          int NOT NULL CHECK (version > 0),
        state            text NOT NULL CHECK (state IN ('ENABLED', 'DISABLED', 'DESTROY_SCHEDULED', 'DESTROYED')),
        wrapped_material bytea,
        created_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_name, version)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE key_versions`);
    await queryRunner.query(`DROP TABLE keys`);
  }
}
