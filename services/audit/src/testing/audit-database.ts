import { createServiceDataSource, openAndMigrate } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import type { DataSource } from 'typeorm';
import { auditService } from '../audit.service.js';

/** The append-only tables; their triggers refuse changes even to the superuser unless switched off. */
const LOG_TABLES = [
  'audit_records',
  'audit_merkle_subtrees',
  'audit_checkpoints',
  'audit_archives',
];

/**
 * The audit schema, migrated, in a database of its own: for tests of the log's storage without
 * the running service.
 */
export interface AuditTestDatabase {
  readonly database: TestDatabase;
  /** The service role's data source. */
  readonly dataSource: DataSource;
  /**
   * Runs statements as the PostgreSQL superuser in the audit schema with the log's append-only
   * triggers switched off (to tamper with the log, or to empty it).
   */
  asAdmin(statements: (string | [string, unknown[]])[]): Promise<void>;
  /** Empties the records, the tree, the checkpoints and the archives: a test starts from an empty log. */
  emptyLog(): Promise<void>;
  close(): Promise<void>;
}

export async function openAuditTestDatabase(poolSize?: number): Promise<AuditTestDatabase> {
  const database = await createTestDatabase('audit');
  const dataSource = createServiceDataSource({
    url: database.url,
    schema: database.schema,
    migrations: auditService.migrations,
    ...(poolSize ? { poolSize } : {}),
  });
  await openAndMigrate(dataSource);
  const asAdmin = async (statements: (string | [string, unknown[]])[]) => {
    const admin = createServiceDataSource({
      url: database.adminUrl,
      schema: database.schema,
      migrations: [],
    });
    await admin.initialize();
    try {
      for (const table of LOG_TABLES)
        await admin.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
      for (const statement of statements) {
        const [sql, parameters] = typeof statement === 'string' ? [statement, []] : statement;
        await admin.query(sql, parameters);
      }
      for (const table of LOG_TABLES) await admin.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    } finally {
      await admin.destroy();
    }
  };
  return {
    database,
    dataSource,
    asAdmin,
    emptyLog: () => asAdmin([`TRUNCATE ${LOG_TABLES.join(', ')}`]),
    async close() {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
