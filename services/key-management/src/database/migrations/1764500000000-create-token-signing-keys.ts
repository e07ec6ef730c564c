import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity's token-signing keys. The private key (a JWK) is stored only wrapped by the root key,
 * bound to its kid, and erased when the key retires; the public JWK is kept for the record.
 */
export class CreateTokenSigningKeys1764500000000 implements MigrationInterface {
  name = 'CreateTokenSigningKeys1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE token_signing_keys (
        kid                 text PRIMARY KEY,
        algorithm           text NOT NULL CHECK (algorithm IN ('ES256', 'EdDSA', 'RS256', 'PS256')),
        state               text NOT NULL CHECK (state IN ('NEXT', 'CURRENT', 'PREVIOUS', 'RETIRED')),
        public_jwk          jsonb NOT NULL,
        wrapped_private_jwk bytea,
        -- The root key that wrapped it (its id), for root rotation.
        wrapped_by          text,
        created_at          timestamptz NOT NULL,
        activated_at        timestamptz,
        deactivated_at      timestamptz,
        retired_at          timestamptz,
        CHECK ((state = 'RETIRED') = (wrapped_private_jwk IS NULL)),
        CHECK ((wrapped_private_jwk IS NULL) = (wrapped_by IS NULL)),
        CHECK (state NOT IN ('CURRENT', 'PREVIOUS') OR activated_at IS NOT NULL),
        CHECK (state <> 'PREVIOUS' OR deactivated_at IS NOT NULL)
      )`);
    // One key signs, one waits: the rotation relies on it.
    await queryRunner.query(
      `CREATE UNIQUE INDEX token_signing_keys_one_current ON token_signing_keys (state) WHERE state = 'CURRENT'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX token_signing_keys_one_next ON token_signing_keys (state) WHERE state = 'NEXT'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE token_signing_keys`);
  }
}
