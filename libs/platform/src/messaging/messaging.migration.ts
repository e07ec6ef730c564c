import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox (events waiting for the relay) and the inbox (events this service has settled) of
 * one service, in the service's own schema. Every service with events lists this migration first.
 */
export class CreateMessagingTables1764000000000 implements MigrationInterface {
  name = 'CreateMessagingTables1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbox (
        id           bigserial PRIMARY KEY,
        event_id     uuid,
        topic        text NOT NULL,
        message_key  text NOT NULL,
        payload      text NOT NULL,
        headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    // The relay only ever scans what is still unpublished, in insertion order.
    await queryRunner.query(
      `CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE inbox (
        consumer   text NOT NULL,
        event_id   text NOT NULL,
        status     text NOT NULL CHECK (status IN ('handled', 'dead-lettered')),
        topic      text NOT NULL,
        error      text,
        settled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
    // The relay's retention purge.
    await queryRunner.query(`CREATE INDEX inbox_settled_at ON inbox (settled_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE inbox`);
    await queryRunner.query(`DROP TABLE outbox`);
  }
}
