import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * End-to-end encrypted sharing. The service stores users' public WRAP keys, ciphertext it cannot
 * decrypt, and per-reader JWEs it cannot open: nothing here is secret from the database's view.
 */
export class CreateSharing1764600000000 implements MigrationInterface {
  name = 'CreateSharing1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE wrap_keys (
        user_id     text PRIMARY KEY,
        public_jwk  jsonb NOT NULL CHECK (NOT public_jwk ? 'd'),
        fingerprint text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE shared_objects (
        id         uuid PRIMARY KEY,
        owner      text NOT NULL,
        version    int NOT NULL DEFAULT 1 CHECK (version > 0),
        ciphertext bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX shared_objects_owner ON shared_objects (owner)`);
    // One wrapped data key per reader, the owner included; replaced wholesale on revocation.
    await queryRunner.query(`
      CREATE TABLE shared_object_keys (
        object_id       uuid NOT NULL REFERENCES shared_objects (id) ON DELETE CASCADE,
        recipient       text NOT NULL,
        jwe             text NOT NULL,
        key_fingerprint text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (object_id, recipient)
      )`);
    await queryRunner.query(
      `CREATE INDEX shared_object_keys_recipient ON shared_object_keys (recipient)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE shared_object_keys`);
    await queryRunner.query(`DROP TABLE shared_objects`);
    await queryRunner.query(`DROP TABLE wrap_keys`);
  }
}
