import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeWithKafka } from '@rampart/testing/jest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import pg from 'pg';
import type { AuditEnvironment } from '../testing/audit-harness.js';
import {
  expectExactlyOnceAndVerified,
  openIngestRig,
  type IngestRig,
  logSize,
  produceLoginEvents,
  PRODUCER_APPLICATION,
  recordedCount,
  waitUntil,
} from '../testing/ingest-reliability.js';

/** The built service: the test kills a real process, as a crash or an OOM kill would. */
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');
const EVENTS = 3_000;
/** The advisory lock the pause trigger waits on while the test holds it. */
const PAUSE_LOCK = 72_517;

/**
 * Makes "mid-batch" a fact the test can see: an insert into the log waits on PAUSE_LOCK when its
 * transaction has already appended a record. So while the test holds the lock, the ingest's
 * batch transaction stops after its first append, with that record written and uncommitted.
 */
const PAUSE_TRIGGER = [
  `CREATE FUNCTION test_pause_mid_batch() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF current_setting('rampart_test.appended', true) = 'yes' THEN
       PERFORM pg_advisory_xact_lock_shared(${PAUSE_LOCK});
     END IF;
     PERFORM set_config('rampart_test.appended', 'yes', true);
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER test_pause_mid_batch BEFORE INSERT ON audit_records
     FOR EACH ROW EXECUTE FUNCTION test_pause_mid_batch()`,
];

/** A backend of the service inside a batch: it appended a record and waits on the pause lock. */
const PAUSED_MID_BATCH = `
  SELECT waiting.pid FROM pg_locks waiting
    JOIN pg_locks written ON written.pid = waiting.pid AND written.granted
     AND written.locktype = 'relation' AND written.mode = 'RowExclusiveLock'
     AND written.relation = 'audit_records'::regclass
   WHERE waiting.locktype = 'advisory' AND NOT waiting.granted AND waiting.objid = ${PAUSE_LOCK}`;

describeWithKafka(
  'ingest: the audit consumer killed mid-batch (real Kafka, a real process)',
  () => {
    let rig: IngestRig;
    let environment: AuditEnvironment;
    let producer: DataSource;

    beforeAll(async () => {
      rig = await openIngestRig({
        // The killed member's partitions are reassigned after this, not after 30 s.
        KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      });
      ({ environment, producer } = rig);
    }, 60_000);

    afterAll(async () => {
      await rig?.close();
    });

    it('loses nothing and records nothing twice: every event once, gapless, the chain verifies', async () => {
      expect(existsSync(MAIN)).toBe(true); // built by `nx run-many -t build` before the tests
      const child: ChildProcess = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env['PATH'] ?? '', ...environment.env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise((done) => child.once('exit', done));
      const pauser = new pg.Client({ connectionString: environment.database.adminUrl });
      let ids: string[];
      let committedAtKill: number;
      try {
        await waitUntil(async () => {
          if (child.exitCode !== null) throw new Error(`the service exited early:\n${output}`);
          return rig.hasRecordedItsStart();
        }, 'the service to record its own start');

        await environment.admin(PAUSE_TRIGGER[0]!);
        await environment.admin(PAUSE_TRIGGER[1]!);
        await pauser.connect();
        await pauser.query(`SELECT pg_advisory_lock(${PAUSE_LOCK})`);

        ids = await produceLoginEvents(producer, EVENTS);
        await waitUntil(
          async () => (await environment.admin(PAUSED_MID_BATCH)).length > 0,
          'a batch to stop mid-way',
        );
        committedAtKill = await logSize(producer);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      // The paused transaction dies with its process (PostgreSQL would notice the closed socket at
      // its next read; the test does not wait for that), then the pause is lifted for good.
      await environment.admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND usename <> current_user AND application_name <> $1`,
        [PRODUCER_APPLICATION],
      );
      await environment.admin(`DROP TRIGGER test_pause_mid_batch ON audit_records`);
      await environment.admin(`DROP FUNCTION test_pause_mid_batch()`);
      await pauser.end();

      // The half-done batch left nothing behind, and most events were still to come.
      expect(await logSize(producer)).toBe(committedAtKill);
      expect(await recordedCount(producer, ids)).toBeLessThan(EVENTS);

      await rig.start();
      await waitUntil(
        async () => (await recordedCount(producer, ids)) === EVENTS,
        `all ${EVENTS} events after the restart`,
        45_000,
      );
      await expectExactlyOnceAndVerified(producer, ids);
    }, 90_000);
  },
);
