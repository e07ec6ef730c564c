import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage for every oidc-provider model (sessions, grants, codes, tokens, interactions, clients
 * registered at run time...) in one table: the provider treats payloads as opaque documents, so one
 * JSON column plus the few columns it looks rows up by is all it needs (ADR 0015). Expired rows
 * are invisible to reads at once and deleted later in bounded batches.
 *
 * The payload is `json`, not `jsonb`: payloads carry request parameters verbatim, and `jsonb`
 * refuses the escaped NUL character (`\u0000`) that `json` keeps. Nothing queries inside it.
 */
export class CreateOidcModels1764700000000 implements MigrationInterface {
  name = 'CreateOidcModels1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE oidc_models (
        model       text NOT NULL CHECK (model <> ''),
        id          text NOT NULL CHECK (id <> ''),
        payload     json NOT NULL CHECK (json_typeof(payload) = 'object'),
        grant_id    text,
        user_code   text,
        uid         text,
        expires_at  timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      )`);
    // revokeByGrantId deletes across models (codes, access and refresh tokens of one grant).
    await queryRunner.query(
      `CREATE INDEX oidc_models_grant_id ON oidc_models (grant_id) WHERE grant_id IS NOT NULL`,
    );
    // Not unique: an expired but not yet purged device code may share a user code with a new one.
    await queryRunner.query(
      `CREATE INDEX oidc_models_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL`,
    );
    // The purge walks expired rows oldest first; rows without expiry (clients) never qualify.
    await queryRunner.query(
      `CREATE INDEX oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE oidc_models`);
  }
}
