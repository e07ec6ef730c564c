import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditRecord } from '../chain/audit-record.js';
import { appendToChain } from '../chain/chain-appender.js';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { testRecord } from '../testing/records.js';

interface Page {
  events: { sequence: number; previousHash: string; hash: string; record: AuditRecord }[];
  nextCursor: string | null;
}

/** A record with the fields the filters look at. */
function record(fields: {
  subject: string;
  actor?: Record<string, unknown>;
  classUid?: number;
  failed?: boolean;
  service?: string;
  time?: number;
}): AuditRecord {
  const base = testRecord({ subject: fields.subject });
  return {
    ...base,
    class_uid: fields.classUid ?? 6003,
    time: fields.time ?? base.time,
    status: fields.failed ? 'Failure' : 'Success',
    status_id: fields.failed ? 2 : 1,
    ...(fields.actor ? { actor: fields.actor } : {}),
    metadata: {
      ...base.metadata,
      product: { name: fields.service ?? 'identity', vendor_name: 'Rampart' },
    },
  };
}

describe('GET /audit/v1/events', () => {
  let audit: AuditHarness;
  let token: string;
  /** A run-unique prefix, so filters see only this file's records. */
  const run = randomUUID().slice(0, 8);
  const t0 = Date.parse('2026-01-10T10:00:00Z');

  const query = async (parameters: Record<string, string | string[]>, as = token) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(parameters)) {
      for (const item of [value].flat()) search.append(key, item);
    }
    return audit.get(`/audit/v1/events?${search.toString()}`, as);
  };
  const page = async (parameters: Record<string, string | string[]>) => {
    const answer = await query(parameters);
    expect(answer.status).toBe(200);
    return answer.body as unknown as Page;
  };
  const subjects = (result: Page) => result.events.map((event) => event.record.target.uid);

  beforeAll(async () => {
    audit = await startAudit();
    token = await audit.token('auditor', 'audit:read');
    const records = [
      record({ subject: `${run}-a`, actor: { user: { uid: `${run}-alice` } }, time: t0 }),
      record({
        subject: `${run}-b`,
        actor: { user: { uid: `${run}-bob` } },
        classUid: 3002,
        failed: true,
        time: t0 + 60_000,
      }),
      record({
        subject: `${run}-c`,
        actor: { app_name: `${run}-key-management` },
        classUid: 3004,
        service: 'key-management',
        time: t0 + 120_000,
      }),
      record({
        subject: `${run}-d`,
        actor: { app_uid: `${run}-client` },
        classUid: 3002,
        time: t0 + 180_000,
      }),
      ...Array.from({ length: 5 }, () => record({ subject: `${run}-paged`, time: t0 })),
      ...Array.from({ length: 101 }, () => record({ subject: `${run}-bulk`, time: t0 })),
    ];
    await audit.service.dataSource!.transaction((transaction) =>
      appendToChain(transaction, records),
    );
  });

  afterAll(async () => {
    await audit?.stop();
  });

  it('answers with the stored records, their sequence numbers and hashes', async () => {
    const result = await page({ subject: `${run}-a` });
    expect(result.nextCursor).toBeNull();
    expect(result.events).toHaveLength(1);
    const [event] = result.events;
    const [stored] = await audit.admin<{
      sequence: string;
      record: string;
      hash: Buffer;
      previous_hash: Buffer;
    }>(`SELECT sequence, record, hash, previous_hash FROM audit_records WHERE subject = $1`, [
      `${run}-a`,
    ]);
    expect(event).toEqual({
      sequence: Number(stored!.sequence),
      previousHash: stored!.previous_hash.toString('hex'),
      hash: stored!.hash.toString('hex'),
      record: JSON.parse(stored!.record),
    });
  });

  it('filters by actor, whether a user, an application or a workload', async () => {
    expect(subjects(await page({ actor: `${run}-alice` }))).toEqual([`${run}-a`]);
    expect(subjects(await page({ actor: `${run}-key-management` }))).toEqual([`${run}-c`]);
    expect(subjects(await page({ actor: `${run}-client` }))).toEqual([`${run}-d`]);
  });

  it('filters by class, outcome, service and time range, and combines filters', async () => {
    const from = new Date(t0 + 1).toISOString();
    const to = new Date(t0 + 180_000).toISOString();
    const named = new Set(['a', 'b', 'c', 'd'].map((letter) => `${run}-${letter}`));
    const ours = (result: Page) => subjects(result).filter((subject) => named.has(subject));
    expect(ours(await page({ class: '3002' }))).toEqual([`${run}-b`, `${run}-d`]);
    expect(ours(await page({ outcome: 'failure' }))).toEqual([`${run}-b`]);
    expect(ours(await page({ service: 'key-management' }))).toEqual([`${run}-c`]);
    // `from` inclusive, `to` exclusive: a, at t0, and d, at `to`, are out.
    expect(ours(await page({ from, to }))).toEqual([`${run}-b`, `${run}-c`]);
    expect(ours(await page({ from, to, outcome: 'success' }))).toEqual([`${run}-c`]);
    expect(ours(await page({ class: '3002', outcome: 'success' }))).toEqual([`${run}-d`]);
    expect(ours(await page({ from: '2026-01-10T11:00:00+01:00', to }))).toEqual([
      `${run}-a`,
      `${run}-b`,
      `${run}-c`,
    ]);
  });

  it('pages by cursor in sequence order, every record once', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const result: Page = await page({
        subject: `${run}-paged`,
        limit: '2',
        ...(cursor ? { cursor } : {}),
      });
      sizes.push(result.events.length);
      seen.push(...result.events.map((event) => event.sequence));
      cursor = result.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(new Set(seen).size).toBe(5);
  });

  it('returns 100 records by default and at most 1000', async () => {
    const first = await page({ subject: `${run}-bulk` });
    expect(first.events).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await page({ subject: `${run}-bulk`, cursor: first.nextCursor! });
    expect(rest.events).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    expect((await page({ subject: `${run}-bulk`, limit: '1000' })).events).toHaveLength(101);
  });

  it('treats markup and SQL in filter values as plain values that match nothing', async () => {
    const hostile = [
      `<script>alert(1)</script>`,
      `' OR '1'='1`,
      `x'; DROP TABLE audit_records; --`,
      `${run}-a' OR subject LIKE '%`,
      `%`,
      `*`,
      `{"$ne":null}`,
      `\\' OR 1=1 --`,
    ];
    for (const value of hostile) {
      for (const filter of ['actor', 'subject', 'service']) {
        const answer = await query({ [filter]: value });
        expect({ value, filter, status: answer.status }).toEqual({ value, filter, status: 200 });
        expect(answer.body).toEqual({ events: [], nextCursor: null });
      }
    }
    const [count] = await audit.admin<{ n: string }>(`SELECT count(*) AS n FROM audit_records`);
    expect(Number(count!.n)).toBeGreaterThan(110);
  });

  it('refuses bad parameters with a problem+json 400 that names the parameter', async () => {
    const cases: [Record<string, string | string[]>, string][] = [
      [{ limit: '0' }, 'limit'],
      [{ limit: '1001' }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ limit: '-1' }, 'limit'],
      [{ class: 'Authentication' }, 'class'],
      [{ outcome: 'maybe' }, 'outcome'],
      [{ from: 'yesterday' }, 'from'],
      [{ to: '2026-01-10' }, 'to'],
      [{ from: '2026-01-10T10:00:00Z', to: '2026-01-10T09:00:00Z' }, 'to'],
      [{ cursor: 'not-a-cursor' }, 'cursor'],
      [{ cursor: Buffer.from('after:x').toString('base64url') }, 'cursor'],
      [{ subject: ['a', 'b'] }, 'subject'],
      [{ subject: 'a\u0000b' }, 'subject'],
      [{ subject: 'x'.repeat(257) }, 'subject'],
      [{ sort: 'sequence' }, 'sort'],
    ];
    for (const [parameters, named] of cases) {
      const answer = await query(parameters);
      expect({ parameters, status: answer.status }).toEqual({ parameters, status: 400 });
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(answer.body).toMatchObject({
        code: 'validation-failed',
        errors: expect.arrayContaining([expect.objectContaining({ path: named })]),
      });
    }
  });

  it('refuses a caller without a token, and a token without audit:read, as problem+json', async () => {
    const anonymous = await audit.get('/audit/v1/events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const unscoped = await query({}, await audit.token('someone', 'openid'));
    expect(unscoped.status).toBe(403);
    expect(unscoped.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('audits every query: who asked, the filters and the count, never the results', async () => {
    const asker = `${run}-investigator`;
    const answer = await query(
      { subject: `${run}-paged`, outcome: 'success', limit: '3' },
      await audit.token(asker, 'audit:read'),
    );
    expect(answer.status).toBe(200);
    let rows: { record: string; sequence: string }[] = [];
    for (const deadline = Date.now() + 10_000; rows.length === 0 && Date.now() < deadline;) {
      await sleep(50);
      rows = await audit.admin(
        `SELECT sequence, record FROM audit_records
          WHERE event_type = 'rampart.audit.query.performed' AND subject = $1`,
        [`user:${asker}`],
      );
    }
    expect(rows).toHaveLength(1);
    const audited = JSON.parse(rows[0]!.record) as AuditRecord & {
      actor: unknown;
      unmapped: { data: unknown };
    };
    expect(audited.class_uid).toBe(6003);
    expect(audited.actor).toEqual({ user: { uid: `user:${asker}` } });
    expect(audited.unmapped.data).toEqual({
      operation: 'query',
      actor: `user:${asker}`,
      clientId: 'test-client',
      filters: { subject: `${run}-paged`, outcome: 'success' },
      continued: false,
      limit: 3,
      returned: 3,
    });
    // In the chain: the verifier still finds it intact with the query's record in it.
    const verify = await audit.get('/audit/v1/verify', token);
    expect(verify.body).toMatchObject({ valid: true });

    // A refused query returns nothing and is not a query of the log: no event.
    await query({ limit: '0' }, await audit.token(`${asker}-2`, 'audit:read'));
    await sleep(300);
    expect(
      await audit.admin(`SELECT 1 FROM audit_records WHERE subject = $1`, [`user:${asker}-2`]),
    ).toEqual([]);
  });

  it('is described in the OpenAPI document', async () => {
    const document = await audit.get('/audit/openapi.json');
    expect(document.body).toMatchObject({ paths: { '/audit/v1/events': { get: {} } } });
  });
});
