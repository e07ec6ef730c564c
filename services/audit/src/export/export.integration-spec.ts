import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { appendToChain } from '../chain/chain-appender.js';
import { entryHash } from '../chain/chain-hash.js';
import { verifyExportFile } from './export-file.js';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { testRecord } from '../testing/records.js';

interface Line {
  sequence: number;
  previousHash: string;
  hash: string;
  record: Record<string, unknown>;
}

describe('GET /audit/v1/export (NDJSON for SIEMs)', () => {
  let audit: AuditHarness;
  let token: string;

  const download = async (query: string, as: string = token) => {
    const response = await fetch(`${audit.service.url}/audit/v1/export${query}`, {
      headers: as ? { authorization: `Bearer ${as}` } : {},
    });
    return { response, text: await response.text() };
  };
  const lines = (text: string) =>
    text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Line);

  beforeAll(async () => {
    audit = await startAudit();
    token = await audit.token('siem-exporter', 'audit:read');
    await audit.service.dataSource!.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: 12 }, (_, index) => testRecord({ subject: `export-${index}` })),
      ),
    );
  });

  afterAll(async () => {
    await audit?.stop();
  });

  it('writes records in sequence order, one verifiable line each, and continues after a sequence', async () => {
    const first = await download('?limit=5');
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(first.response.headers.get('content-disposition')).toMatch(/attachment/);
    expect(first.text.endsWith('\n')).toBe(true);
    const page = lines(first.text);
    expect(page.map((line) => line.sequence)).toEqual([1, 2, 3, 4, 5]);

    const stored = await audit.admin<{
      sequence: string;
      record: string;
      previous_hash: Buffer;
      hash: Buffer;
    }>(
      `SELECT sequence, record, previous_hash, hash FROM audit_records WHERE sequence <= 5 ORDER BY sequence`,
    );
    expect(page).toEqual(
      stored.map((row) => ({
        sequence: Number(row.sequence),
        previousHash: row.previous_hash.toString('hex'),
        hash: row.hash.toString('hex'),
        record: JSON.parse(row.record),
      })),
    );
    for (const [index, line] of page.entries()) {
      expect(entryHash(line.sequence, line.previousHash, line.record).toString('hex')).toBe(
        line.hash,
      );
      if (index > 0) expect(line.previousHash).toBe(page[index - 1]!.hash);
    }

    const next = lines((await download('?after=5&limit=3')).text);
    expect(next.map((line) => line.sequence)).toEqual([6, 7, 8]);
    expect(next[0]!.previousHash).toBe(page[4]!.hash);
    const beyond = await download('?after=100000');
    expect(beyond.response.status).toBe(200);
    expect(beyond.text).toBe('');
  });

  it('with proofs=true, begins with the tree frontier so that the file rebuilds the tree', async () => {
    const { response, text } = await download('?after=3&limit=4&proofs=true');
    expect(response.status).toBe(200);
    const [first, ...records] = text.split('\n').filter((line) => line.length > 0);
    expect(JSON.parse(first!)).toMatchObject({ frontier: { size: 3 } });
    expect(records.map((line) => (JSON.parse(line) as Line).sequence)).toEqual([4, 5, 6, 7]);
    const verify = (file: string) =>
      verifyExportFile(Readable.from(file.split('\n')) as AsyncIterable<string>);
    const verified = await verify(text);
    expect(verified.chain).toMatchObject({ valid: true, records: 4, pruned: 0 });
    // The frontier stands for records 1 to 3: the root is the one the whole prefix gives.
    const whole = await verify((await download('?limit=7')).text);
    expect(whole.merkle).toMatchObject({ checked: true, leaves: 7 });
    expect(verified.merkle).toEqual(whole.merkle);
    expect((await download('?proofs=yes')).response.status).toBe(400);
  });

  it('is audited as an export: who, the range and the count', async () => {
    const asker = 'export-auditor';
    await download('?after=2&limit=4', await audit.token(asker, 'audit:read'));
    let rows: { record: string }[] = [];
    for (const deadline = Date.now() + 10_000; rows.length === 0 && Date.now() < deadline;) {
      await sleep(50);
      rows = await audit.admin(`SELECT record FROM audit_records WHERE subject = $1`, [
        `user:${asker}`,
      ]);
    }
    expect(rows).toHaveLength(1);
    const { unmapped } = JSON.parse(rows[0]!.record) as { unmapped: { data: unknown } };
    expect(unmapped.data).toEqual({
      operation: 'export',
      actor: `user:${asker}`,
      clientId: 'test-client',
      filters: {},
      continued: true,
      limit: 4,
      returned: 4,
    });
  });

  it('refuses bad parameters with a 400 naming them, and callers without audit:read', async () => {
    for (const [query, named] of [
      ['?limit=0', 'limit'],
      ['?limit=10001', 'limit'],
      ['?after=-1', 'after'],
      ['?after=abc', 'after'],
      ['?from=2026-01-01T00:00:00Z', 'from'],
    ] as const) {
      const { response, text } = await download(query);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(JSON.parse(text)).toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ path: named })]),
      });
    }
    expect((await download('', '')).response.status).toBe(401);
    const unscoped = await download('', await audit.token('someone', 'openid'));
    expect(unscoped.response.status).toBe(403);
    expect(unscoped.response.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});
