import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the provider's Session documents do not say: the device and address a session was last
 * used from, and when. One row per provider session (by its public uid), written as the session
 * is used; the provider's `Session` row in `oidc_models` stays the truth of whether the session
 * exists. `revoked_at` keeps a revoked session's row for a while as a tombstone, so a request
 * that was in flight during the revocation cannot bring the session back (see SessionActivity).
 *
 * Also an index on the account of Session documents: listing and revoking "all sessions of this
 * account" then reads only that account's rows instead of every session's JSON.
 */
export class CreateSessions1765100000000 implements MigrationInterface {
  name = 'CreateSessions1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE sessions (
        uid          text PRIMARY KEY CHECK (char_length(uid) BETWEEN 1 AND 128),
        account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        ip           text CHECK (char_length(ip) <= 64),
        user_agent   text CHECK (char_length(user_agent) <= 512),
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX sessions_account_id ON sessions (account_id)`);
    await queryRunner.query(
      `CREATE INDEX oidc_models_session_account ON oidc_models ((payload ->> 'accountId'))
        WHERE model = 'Session'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX oidc_models_session_account`);
    await queryRunner.query(`DROP TABLE sessions`);
  }
}
