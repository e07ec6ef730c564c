import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key policies: bindings of members to operations, on a key ring (key_name = '') or on one key
 * of a ring. Keyed by the ring as well as the key, so a policy only ever applies to a key while
 * that key belongs to the ring it was written for.
 */
export class CreateKeyPolicies1764400000000 implements MigrationInterface {
  name = 'CreateKeyPolicies1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE key_policies (
        key_ring   text NOT NULL CHECK (key_ring ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        key_name   text NOT NULL CHECK (key_name = '' OR key_name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
        bindings   jsonb NOT NULL CHECK (jsonb_typeof(bindings) = 'array'),
        version    int NOT NULL CHECK (version > 0),
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_ring, key_name)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE key_policies`);
  }
}
