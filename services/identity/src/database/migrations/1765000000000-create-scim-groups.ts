import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Groups provisioned through SCIM and their members (accounts). Group names are unique ignoring
 * case, like usernames. A membership goes with its account or its group (ON DELETE CASCADE);
 * `version` is the group's SCIM ETag and grows with every change, membership included.
 */
export class CreateScimGroups1765000000000 implements MigrationInterface {
  name = 'CreateScimGroups1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE groups (
        id           uuid PRIMARY KEY,
        display_name text NOT NULL CHECK (display_name <> '' AND char_length(display_name) <= 256),
        external_id  text CHECK (char_length(external_id) <= 256),
        version      integer NOT NULL DEFAULT 1 CHECK (version > 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX groups_display_name ON groups (lower(display_name))`,
    );
    await queryRunner.query(`
      CREATE TABLE group_members (
        group_id   uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, account_id)
      )`);
    // A user's groups (the User resource's `groups`, and bumping group versions on user deletion).
    await queryRunner.query(`CREATE INDEX group_members_account_id ON group_members (account_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE group_members`);
    await queryRunner.query(`DROP TABLE groups`);
  }
}
