import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts and their e-mail verification tokens. Usernames are unique ignoring case (a unique
 * index on `lower(username)`, no citext extension to install); e-mail addresses are stored in lower
 * case, so a plain unique constraint suffices. Only the SHA-256 of a verification token is stored:
 * a database reader cannot verify someone else's address.
 */
export class CreateAccounts1764800000000 implements MigrationInterface {
  name = 'CreateAccounts1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE accounts (
        id                  uuid PRIMARY KEY,
        username            text NOT NULL CHECK (username <> ''),
        email               text NOT NULL UNIQUE CHECK (email = lower(email)),
        email_verified_at   timestamptz,
        password_hash       text NOT NULL,
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        status              text NOT NULL DEFAULT 'ACTIVE'
                            CHECK (status IN ('ACTIVE', 'DISABLED', 'DELETION_REQUESTED')),
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX accounts_username ON accounts (lower(username))`);
    await queryRunner.query(`
      CREATE TABLE email_verifications (
        token_hash  bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
        account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        expires_at  timestamptz NOT NULL,
        consumed_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX email_verifications_account_id ON email_verifications (account_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE email_verifications`);
    await queryRunner.query(`DROP TABLE accounts`);
  }
}
