import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startPlatformUnderTest, type PlatformUnderTest } from './testing/platform-under-test.js';

const REPOSITORY = resolve(import.meta.dirname, '../../..');

/** `npx rampart <args>` from the repository root, as an auditor runs it. */
function rampart(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync('npx', ['--no-install', 'rampart', ...args], {
    cwd: REPOSITORY,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The platform's audit log as an auditor checks it: `npx rampart audit verify` against the live
 * database, then again after a record was changed behind the service's back.
 */
describe('npx rampart audit verify on a running platform', () => {
  let platform: PlatformUnderTest;
  let admin: pg.Client;

  beforeAll(async () => {
    platform = await startPlatformUnderTest('audit-cli');
    admin = new pg.Client({ connectionString: platform.databaseUrl });
    await admin.connect();
    // The first start's events (services started, the administrator and client created) reach
    // the audit log through the event bus.
    for (let tries = 0; tries < 100; tries += 1) {
      const { rows } = await admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM audit.audit_records',
      );
      if (Number(rows[0]!.n) >= 5) break;
      await sleep(100);
    }
  });

  afterAll(async () => {
    await admin?.end();
    await platform?.stop();
  });

  it('finds the chain, the Merkle tree and the checkpoints valid, and names the head', async () => {
    const verified = rampart(['audit', 'verify', '--database-url', platform.databaseUrl]);
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    const [chain, tree, checkpoints] = verified.stdout.split('\n');
    const [, count, head] = /^chain: valid, (\d+) records, head ([0-9a-f]{64})$/.exec(chain!)!;
    expect(Number(count)).toBeGreaterThanOrEqual(5);
    const { rows } = await admin.query<{ hash: Buffer }>(
      'SELECT hash FROM audit.audit_records WHERE sequence = $1',
      [count],
    );
    expect(rows[0]!.hash.toString('hex')).toBe(head);
    expect(tree).toMatch(/^merkle tree: valid, \d+ leaves, root [0-9a-f]{64}$/);
    // No checkpoint key given: roots are checked, signatures are said not to be.
    expect(checkpoints).toMatch(/^checkpoints: valid, \d+ checked.*signatures NOT checked/);
    // The connection can also come from the environment, and small batches change nothing.
    const fromEnvironment = rampart(['audit', 'verify', '--batch-size', '2'], {
      RAMPART_AUDIT_DATABASE_URL: platform.databaseUrl,
    });
    expect(fromEnvironment.status).toBe(0);
    expect(fromEnvironment.stdout).toMatch(/^chain: valid, \d+ records, head [0-9a-f]{64}\n/);
  });

  it('reports the first bad sequence number when a record was changed in the database', async () => {
    await admin.query(
      'ALTER TABLE audit.audit_records DISABLE TRIGGER audit_records_no_update_or_delete',
    );
    try {
      await admin.query(
        `UPDATE audit.audit_records SET record = replace(record, '"Success"', '"Failure"') WHERE sequence = 3`,
      );
    } finally {
      await admin.query(
        'ALTER TABLE audit.audit_records ENABLE TRIGGER audit_records_no_update_or_delete',
      );
    }
    const tampered = rampart(['audit', 'verify', '--database-url', platform.databaseUrl]);
    expect(tampered.status).toBe(1);
    const [chain, tree] = tampered.stdout.split('\n');
    expect(chain).toBe('chain: INVALID, first bad sequence 3: modified');
    // The record is leaf 2 of the tree: its stored leaf no longer matches the record.
    expect(tree).toBe('merkle tree: INVALID, subtree 2 at level 0: modified');
  });

  it('says what is missing instead of failing obscurely', async () => {
    const badKey = rampart([
      'audit',
      'verify',
      '--database-url',
      platform.databaseUrl,
      '--key',
      'not-a-key',
    ]);
    expect(badKey.status).toBe(64);
    expect(badKey.stderr).toContain('--key');
    const noDatabase = rampart(['audit', 'verify'], { RAMPART_AUDIT_DATABASE_URL: '' });
    expect(noDatabase.status).toBe(64);
    expect(noDatabase.stderr).toContain('RAMPART_AUDIT_DATABASE_URL');
    const wrongSchema = rampart([
      'audit',
      'verify',
      '--database-url',
      platform.databaseUrl,
      '--schema',
      'identity',
    ]);
    expect(wrongSchema.status).toBe(66);
    expect(wrongSchema.stderr).toBe('rampart: there is no audit log in schema identity\n');
    // A role without access to the log: PostgreSQL's refusal, not a stack trace.
    await admin.query(`CREATE ROLE cli_stranger LOGIN PASSWORD 'stranger-password'`);
    const stranger = new URL(platform.databaseUrl);
    stranger.username = 'cli_stranger';
    stranger.password = 'stranger-password';
    const refused = rampart(['audit', 'verify', '--database-url', stranger.toString()]);
    expect(refused.status).toBe(66);
    expect(refused.stderr).toMatch(/^rampart: the audit database refused: .*\(42501\)\n$/);
    expect(refused.stderr).not.toContain('stranger-password');
    const unreachable = rampart([
      'audit',
      'verify',
      '--database-url',
      'postgres://nobody:secret-password@127.0.0.1:1/rampart',
    ]);
    expect(unreachable.status).toBe(66);
    expect(unreachable.stderr).not.toContain('secret-password');
  });
});
