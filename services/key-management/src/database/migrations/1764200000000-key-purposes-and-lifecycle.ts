import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Purposes beyond encryption (signing, MAC, recipient keys for end-to-end encryption), key rings,
 * scheduled rotation, per-subject keys, and the timestamps of the destruction lifecycle.
 */
export class KeyPurposesAndLifecycle1764200000000 implements MigrationInterface {
  name = 'KeyPurposesAndLifecycle1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE keys
        DROP CONSTRAINT keys_purpose_check,
        ADD CONSTRAINT keys_purpose_check
          CHECK (purpose IN ('ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'MAC', 'WRAP')),
        ADD COLUMN algorithm text NOT NULL DEFAULT 'AES_256_GCM'
          CHECK (algorithm IN ('AES_256_GCM', 'ES256', 'EdDSA', 'PS256', 'RS256', 'HMAC_SHA256', 'ECDH_ES_P256')),
        ADD COLUMN key_ring text NOT NULL DEFAULT 'default'
          CHECK (key_ring ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        ADD COLUMN rotation_period_seconds int CHECK (rotation_period_seconds >= 3600),
        ADD COLUMN next_rotation_at timestamptz,
        ADD COLUMN destruction_waiting_days int NOT NULL DEFAULT 7
          CHECK (destruction_waiting_days BETWEEN 1 AND 30),
        ADD COLUMN subject_tenant text`);
    await queryRunner.query(`ALTER TABLE keys ALTER COLUMN algorithm DROP DEFAULT`);
    await queryRunner.query(`CREATE INDEX keys_by_ring ON keys (key_ring, name)`);
    await queryRunner.query(
      `CREATE INDEX keys_due_rotation ON keys (next_rotation_at) WHERE next_rotation_at IS NOT NULL`,
    );
    await queryRunner.query(`
      ALTER TABLE key_versions
        ADD COLUMN public_key bytea,
        ADD COLUMN state_before_destruction text,
        ADD COLUMN destroy_at timestamptz,
        ADD COLUMN destroyed_at timestamptz,
        ADD CONSTRAINT key_versions_destruction_scheduled
          CHECK ((state = 'DESTROY_SCHEDULED') = (destroy_at IS NOT NULL)),
        ADD CONSTRAINT key_versions_destroyed_hold_nothing
          CHECK (state <> 'DESTROYED' OR wrapped_material IS NULL)`);
    await queryRunner.query(
      `CREATE INDEX key_versions_due_destruction ON key_versions (destroy_at) WHERE destroy_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX key_versions_due_destruction`);
    await queryRunner.query(`
      ALTER TABLE key_versions
        DROP CONSTRAINT key_versions_destroyed_hold_nothing,
        DROP CONSTRAINT key_versions_destruction_scheduled,
        DROP COLUMN destroyed_at, DROP COLUMN destroy_at,
        DROP COLUMN state_before_destruction, DROP COLUMN public_key`);
    await queryRunner.query(`DROP INDEX keys_due_rotation`);
    await queryRunner.query(`DROP INDEX keys_by_ring`);
    await queryRunner.query(`
      ALTER TABLE keys
        DROP COLUMN subject_tenant, DROP COLUMN destruction_waiting_days,
        DROP COLUMN next_rotation_at, DROP COLUMN rotation_period_seconds,
        DROP COLUMN key_ring, DROP COLUMN algorithm,
        DROP CONSTRAINT keys_purpose_check,
        ADD CONSTRAINT keys_purpose_check CHECK (purpose IN ('ENCRYPT_DECRYPT'))`);
  }
}
