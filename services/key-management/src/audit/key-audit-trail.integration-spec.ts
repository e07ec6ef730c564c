import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  Outbox,
  RampartError,
  startService,
  type Principal,
  type RunningService,
} from '@rampart/platform';
import { keyManagementService } from '../key-management.service.js';
import { KeyAccess } from '../policies/key-access.js';
import { KeyPolicies } from '../policies/key-policies.service.js';
import { startKms, type KmsHarness } from '../testing/kms-harness.js';
import { KeyAuditTrail, type KeyAccessRecord, type KeyAuditOptions } from './key-audit-trail.js';

const consent: Principal = { kind: 'workload', id: 'consent' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface AccessedData {
  ring: string;
  key?: string;
  version?: number;
  operation: string;
  caller: Record<string, unknown>;
  outcome: string;
  calls: number;
  items?: number;
  firstAt: string;
  lastAt: string;
}

describe('key audit trail (real PostgreSQL outbox)', () => {
  let kms: KmsHarness;
  let service: RunningService;
  /** A superuser connection, to stall or break the outbox the way an outage would. */
  let admin: pg.Client;

  const trail = (options: Partial<KeyAuditOptions>) =>
    new KeyAuditTrail(service.dataSource!, service.app.get(Outbox), service.logger, options);

  /** The key-accessed events written for a key (the message key). */
  async function written(key: string) {
    const rows = await service.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE message_key = $1 ORDER BY id`,
      [key],
    );
    return rows.map(
      (row) => JSON.parse(row.payload) as { type: string; subject: string; data: AccessedData },
    );
  }

  async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const value = await probe();
      if (done(value) || Date.now() > deadline) return value;
      await sleep(20);
    }
  }

  const use = (key: string, overrides: Partial<KeyAccessRecord> = {}): KeyAccessRecord => ({
    ring: 'consent',
    key,
    version: 1,
    operation: 'decrypt',
    caller: consent,
    outcome: 'ok',
    ...overrides,
  });

  const capacity = (audit: KeyAuditTrail) => {
    try {
      audit.ensureCapacity();
      return 'available';
    } catch (error) {
      if (!(error instanceof RampartError)) throw error;
      return `${error.code} ${error.status} retry-after=${error.headers['retry-after']}`;
    }
  };

  beforeAll(async () => {
    kms = await startKms();
    service = kms.service;
    admin = new pg.Client({ connectionString: kms.database.adminUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await kms?.stop();
  });

  it('writes records to the outbox on its own, identical calls as one event with a count', async () => {
    const audit = trail({ flushIntervalMs: 20 });
    for (let call = 0; call < 1_000; call += 1) audit.record(use('coalesced'));
    audit.record(
      use('coalesced', { outcome: 'forbidden', caller: { kind: 'workload', id: 'audit' } }),
    );
    audit.record(use('coalesced', { version: 2, operation: 'encrypt', items: 3 }));
    audit.record(use('coalesced', { version: 2, operation: 'encrypt', items: 4 }));
    // No flush() here: the timer alone must get them out.
    const events = await eventually(
      () => written('coalesced'),
      (found) => found.length >= 3,
    );
    expect(events.map((event) => [event.type, event.subject])).toEqual(
      Array(3).fill(['rampart.key-management.key.accessed', 'coalesced']),
    );
    expect(
      events.map(({ data }) => [
        data.operation,
        data.version,
        data.caller['id'],
        data.outcome,
        data.calls,
        data.items,
      ]),
    ).toEqual([
      ['decrypt', 1, 'consent', 'ok', 1_000, undefined],
      ['decrypt', 1, 'audit', 'forbidden', 1, undefined],
      ['encrypt', 2, 'consent', 'ok', 2, 7],
    ]);
    expect(Date.parse(events[0]!.data.firstAt)).toBeLessThanOrEqual(
      Date.parse(events[0]!.data.lastAt),
    );
  });

  it('writes at once when a statement’s worth of records is waiting', async () => {
    const audit = trail({ flushIntervalMs: 60_000, flushAtRecords: 10 });
    for (let version = 1; version <= 10; version += 1) audit.record(use('batched', { version }));
    const events = await eventually(
      () => written('batched'),
      (found) => found.length >= 10,
    );
    expect(events).toHaveLength(10);
  });

  it('writes who, what and how it ended, and nothing else a caller passes along', async () => {
    const audit = trail({});
    const alice: Principal = {
      kind: 'user',
      id: 'alice',
      scopes: ['kms.admin', 'records.read'],
      clientId: 'console',
    };
    const ciphertext = randomBytes(16).toString('base64');
    const smuggled = {
      ...use('sensitive', { caller: alice }),
      plaintext: 'card 4111-1111-1111-1111',
      ciphertext,
      accessToken: 'eyJhbGciOi.secret.token',
    } as KeyAccessRecord;
    audit.record(smuggled);
    await audit.flush();
    const [event] = await written('sensitive');
    expect(event!.data).toEqual({
      ring: 'consent',
      key: 'sensitive',
      version: 1,
      operation: 'decrypt',
      caller: { kind: 'user', id: 'alice', clientId: 'console' },
      outcome: 'ok',
      calls: 1,
      firstAt: expect.any(String),
      lastAt: expect.any(String),
    });
    const [row] = await service.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE message_key = 'sensitive'`,
    );
    for (const secret of ['4111', ciphertext, 'secret.token', 'records.read']) {
      expect(row!.payload).not.toContain(secret);
    }
  });

  it('refuses a record that breaks the event schema when it is made, not at write time', async () => {
    const audit = trail({});
    expect(() => audit.record(use('broken', { ring: '' }))).toThrow(/invalid key audit record/);
    expect(() => audit.record(use('broken', { version: 0 }))).toThrow(/invalid key audit record/);
    audit.record(use('broken'));
    await audit.flush();
    expect((await written('broken')).map((event) => event.data.version)).toEqual([1]);
  });

  it('fails closed while the database stalls, and resumes once the backlog is written', async () => {
    const audit = trail({ flushIntervalMs: 10, maxRecords: 5, maxLagMs: 60_000 });
    // Healthy: four records at a time never reach the limit, because they are written in between.
    for (let round = 0; round < 2; round += 1) {
      for (let version = 1; version <= 4; version += 1) {
        audit.record(use(`healthy-${round}`, { version }));
      }
      await eventually(
        () => written(`healthy-${round}`),
        (found) => found.length === 4,
      );
      expect(capacity(audit)).toBe('available');
    }

    // Stalled: the outbox is locked, so the write under way waits, and records pile up.
    await admin.query('BEGIN');
    await admin.query(`LOCK TABLE ${kms.database.schema}.outbox IN ACCESS EXCLUSIVE MODE`);
    try {
      audit.record(use('stalled', { version: 1 }));
      await sleep(100);
      for (let version = 2; version <= 4; version += 1) audit.record(use('stalled', { version }));
      expect(capacity(audit)).toBe('available');
      audit.record(use('stalled', { version: 5 }));
      expect(capacity(audit)).toBe('service-unavailable 503 retry-after=1');

      // A guarded operation is refused before it runs.
      const access = new KeyAccess(service.app.get(KeyPolicies), audit);
      let ran = false;
      await expect(
        access.perform(consent, 'decrypt', { ring: 'consent', key: 'stalled' }, async () => {
          ran = true;
          return Promise.resolve();
        }),
      ).rejects.toMatchObject({ code: 'service-unavailable' });
      expect(ran).toBe(false);
    } finally {
      await admin.query('ROLLBACK');
    }
    await audit.flush();
    expect(capacity(audit)).toBe('available');
    expect((await written('stalled')).map((event) => event.data.version).sort()).toEqual([
      1, 2, 3, 4, 5,
    ]);
  });

  it('fails closed when records wait too long, and loses none of them', async () => {
    const audit = trail({ flushIntervalMs: 10, maxLagMs: 300, maxRetryDelayMs: 50 });
    await admin.query(`ALTER TABLE ${kms.database.schema}.outbox RENAME TO outbox_away`);
    try {
      for (let call = 0; call < 3; call += 1) audit.record(use('lagging'));
      expect(capacity(audit)).toBe('available');
      await sleep(400);
      // Writes have failed for longer than allowed: refuse.
      expect(capacity(audit)).toBe('service-unavailable 503 retry-after=1');
      for (let call = 0; call < 2; call += 1) audit.record(use('lagging'));
    } finally {
      await admin.query(`ALTER TABLE ${kms.database.schema}.outbox_away RENAME TO outbox`);
    }
    const events = await eventually(
      () => written('lagging'),
      (found) => found.reduce((sum, event) => sum + event.data.calls, 0) >= 5,
    );
    expect(events.reduce((sum, event) => sum + event.data.calls, 0)).toBe(5);
    expect(capacity(audit)).toBe('available');
  });

  it('writes what is still waiting when the service shuts down', async () => {
    const second = await startService(keyManagementService, { env: kms.env });
    const audit = second.app.get(KeyAuditTrail);
    const shutdown = jest.spyOn(audit, 'onApplicationShutdown');
    audit.record(use('at-shutdown'));
    audit.record(use('at-shutdown', { operation: 'encrypt' }));
    await second.stop();
    expect(shutdown).toHaveBeenCalledTimes(1);
    expect((await written('at-shutdown')).map((event) => event.data.operation)).toEqual([
      'decrypt',
      'encrypt',
    ]);
    expect(capacity(audit)).toMatch(/^service-unavailable/);

    // The hook itself, on a trail whose timer would not have fired for a minute.
    const idle = trail({ flushIntervalMs: 60_000 });
    idle.record(use('at-shutdown-idle'));
    await sleep(50);
    expect(await written('at-shutdown-idle')).toEqual([]);
    await idle.onApplicationShutdown();
    expect(await written('at-shutdown-idle')).toHaveLength(1);
  });
});
