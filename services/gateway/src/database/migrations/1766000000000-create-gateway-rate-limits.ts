import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The shared rate-limit state of every gateway replica (ADR 0030): per key, the GCRA theoretical
 * arrival time in epoch milliseconds, by the database's clock. Unlogged: a counter lost in a
 * crash only forgives some recent requests, and skipping the WAL makes each hit cheaper. A row
 * whose time has passed is equivalent to no row, so expired rows are deleted in bulk. No index on
 * the time: every hit updates it, and without an index on it (and with room left in each page)
 * the update stays a heap-only tuple update; the sweep's sequential scan once a minute is cheaper.
 */
export class CreateGatewayRateLimits1766000000000 implements MigrationInterface {
  name = 'CreateGatewayRateLimits1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE UNLOGGED TABLE gateway_rate_limits (
        key                    text PRIMARY KEY,
        theoretical_arrival_ms double precision NOT NULL
      ) WITH (fillfactor = 70)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE gateway_rate_limits`);
  }
}
