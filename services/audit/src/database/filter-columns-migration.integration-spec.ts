import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServiceDataSource, openAndMigrate } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import type { DataSource } from 'typeorm';
import { auditService } from '../audit.service.js';
import type { AuditRecord } from '../chain/audit-record.js';
import { canonicalJson, entryHash, GENESIS_HASH } from '../chain/chain-hash.js';
import { verifyChain } from '../chain/chain-verifier.js';
import { testRecord } from '../testing/records.js';
import { AuditFilterColumns1765900000000 } from './migrations/1765900000000-audit-filter-columns.js';

/** A log written before the filter columns existed, then upgraded. */
describe('migration 1765900000000: the query filters as columns', () => {
  let database: TestDatabase;
  let upgraded: DataSource;

  const records: AuditRecord[] = [
    { ...testRecord(), class_uid: 3002, status_id: 2, actor: { user: { uid: 'account-1' } } },
    { ...testRecord(), class_uid: 3007, status_id: 1, actor: { app_uid: 'scim-client' } },
    { ...testRecord(), actor: { app_name: 'identity' } },
  ];

  beforeAll(async () => {
    database = await createTestDatabase('audit');
    const before = createServiceDataSource({
      url: database.url,
      schema: database.schema,
      migrations: auditService.migrations.filter(
        (migration) => migration !== AuditFilterColumns1765900000000,
      ),
    });
    await openAndMigrate(before);
    // Appended as the appender of that time did: the columns it knew, the chain links.
    let previous = GENESIS_HASH;
    for (const [index, record] of records.entries()) {
      const hash = entryHash(index + 1, previous, record);
      await before.query(
        `INSERT INTO audit_records (sequence, event_id, event_type, service, subject, occurred_at,
                                    recorded_at, record, previous_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          index + 1,
          record.metadata.uid,
          record.metadata.event_code,
          record.metadata.product.name,
          record.target.uid,
          new Date(record.time),
          new Date(record.metadata.logged_time),
          canonicalJson(record),
          Buffer.from(previous, 'hex'),
          hash,
        ],
      );
      previous = hash.toString('hex');
    }
    await before.destroy();
    upgraded = createServiceDataSource({
      url: database.url,
      schema: database.schema,
      migrations: auditService.migrations,
    });
    await openAndMigrate(upgraded);
  });

  afterAll(async () => {
    await upgraded?.destroy();
    await database?.drop();
  });

  it('fills the columns of the records already in the log from the records themselves', async () => {
    expect(
      await upgraded.query(
        `SELECT class_uid, status_id, actor_user, actor_app_uid, actor_app_name
           FROM audit_records ORDER BY sequence`,
      ),
    ).toEqual([
      {
        class_uid: 3002,
        status_id: 2,
        actor_user: 'account-1',
        actor_app_uid: null,
        actor_app_name: null,
      },
      {
        class_uid: 3007,
        status_id: 1,
        actor_user: null,
        actor_app_uid: 'scim-client',
        actor_app_name: null,
      },
      {
        class_uid: 6003,
        status_id: null,
        actor_user: null,
        actor_app_uid: null,
        actor_app_name: 'identity',
      },
    ]);
    expect(await verifyChain(upgraded)).toMatchObject({ valid: true, records: 3 });
  });

  it('leaves the log append-only for the service role', async () => {
    await expect(upgraded.query(`UPDATE audit_records SET class_uid = 1`)).rejects.toThrow(
      /append-only|permission denied/,
    );
    await expect(upgraded.query(`DELETE FROM audit_records`)).rejects.toThrow(
      /append-only|permission denied/,
    );
  });
});
