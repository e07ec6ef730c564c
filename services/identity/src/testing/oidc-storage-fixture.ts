import { createServiceDataSource, openAndMigrate } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import type { DataSource } from 'typeorm';
import { identityMigrations } from '../database/migrations/index.js';

export interface OidcStorageFixture {
  readonly database: TestDatabase;
  /** The identity schema, migrated, connected as the service's own role. */
  readonly dataSource: DataSource;
  /** Rows of `oidc_models` as stored, for assertions that look past the adapter. */
  rows(where?: string, parameters?: unknown[]): Promise<OidcModelRow[]>;
  close(): Promise<void>;
}

export interface OidcModelRow {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

/** A fresh PostgreSQL database with the identity migrations applied, as the service runs them. */
export async function createOidcStorageFixture(): Promise<OidcStorageFixture> {
  const database = await createTestDatabase('identity');
  const dataSource = createServiceDataSource({
    url: database.url,
    schema: database.schema,
    migrations: identityMigrations,
  });
  try {
    await openAndMigrate(dataSource);
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    database,
    dataSource,
    rows: (where = 'true', parameters = []) =>
      dataSource.query<OidcModelRow[]>(
        `SELECT * FROM oidc_models WHERE ${where} ORDER BY model, id`,
        parameters,
      ),
    async close() {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
