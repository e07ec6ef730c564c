import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { testRecord } from '../testing/records.js';
import { appendToChain } from './chain-appender.js';

describe('audit_records is append-only', () => {
  let audit: AuditHarness;
  let rowsBefore: unknown[];

  beforeAll(async () => {
    audit = await startAudit();
    await audit.service.dataSource!.transaction((transaction) =>
      appendToChain(transaction, [testRecord(), testRecord()]),
    );
    rowsBefore = await audit.admin(`SELECT * FROM audit_records ORDER BY sequence`);
    // The service's own start, then the two above.
    expect(rowsBefore).toHaveLength(3);
  });

  afterAll(async () => {
    await audit?.stop();
  });

  // The service role may UPDATE only the columns a prune empties (migration 1765700000000), and
  // the trigger refuses that outside a prune: retention.integration-spec.ts shows both.
  const changes = [
    `UPDATE audit_records SET event_type = 'someone.else' WHERE sequence = 2`,
    `DELETE FROM audit_records WHERE sequence = 2`,
    `TRUNCATE audit_records`,
  ];

  it.each(changes)('refuses through the service own data source: %s', async (sql) => {
    await expect(audit.service.dataSource!.query(sql)).rejects.toThrow(/permission denied/);
  });

  it.each(changes)('refuses the service role on a connection of its own: %s', async (sql) => {
    const client = new pg.Client({
      connectionString: audit.database.url,
      options: `-c search_path=${audit.database.schema}`,
    });
    await client.connect();
    try {
      await expect(client.query(sql)).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });

  it.each(changes)(
    'refuses even when the owning role grants itself the privilege back: %s',
    async (sql) => {
      const runner = audit.service.dataSource!.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(`GRANT UPDATE, DELETE, TRUNCATE ON audit_records TO CURRENT_USER`);
        await expect(runner.query(sql)).rejects.toThrow(/audit_records is append-only/);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    },
  );

  it.each(changes)('refuses the PostgreSQL superuser while the trigger is on: %s', async (sql) => {
    await expect(audit.admin(sql)).rejects.toThrow(/audit_records is append-only/);
  });

  it('still lets the service append, and nothing above changed a row', async () => {
    await audit.service.dataSource!.transaction((transaction) =>
      appendToChain(transaction, [testRecord()]),
    );
    const rows = await audit.admin(`SELECT * FROM audit_records ORDER BY sequence`);
    expect(rows.slice(0, 3)).toEqual(rowsBefore);
    expect(rows).toHaveLength(4);
  });
});
