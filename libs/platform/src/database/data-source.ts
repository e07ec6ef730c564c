import type { Pool, QueryResultRow } from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';

export type MigrationClass = new () => MigrationInterface;

export interface DataSourceOptions {
  url: string;
  /** The service's own schema; its role may not use any other. */
  schema: string;
  migrations: MigrationClass[];
  entities?: (new (...args: never[]) => unknown)[];
  poolSize?: number;
  applicationName?: string;
}

/**
 * A TypeORM data source for one service: its own schema as the search path, migrations only
 * (`synchronize` is never on), a bounded pool. The role in `url` should own nothing but `schema`.
 */
export function createServiceDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: options.applicationName ?? `rampart-${options.schema}`,
    extra: {
      max: options.poolSize ?? 10,
      // Unqualified names resolve to the service's schema only.
      options: `-c search_path=${options.schema}`,
      connectionTimeoutMillis: 5_000,
    },
  });
}

/** Opens the data source and applies pending migrations. */
export async function openAndMigrate(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
}

/**
 * Runs a hot-path statement as a named prepared statement on the data source's own pg pool (the
 * same connections and search path as TypeORM's queries): PostgreSQL parses and plans it once per
 * connection instead of on every call, which is most of what a short statement costs it. `name`
 * must stand for exactly one `text` across the process. Not for statements inside a TypeORM
 * transaction: the pool hands out any connection.
 */
export async function runPrepared<Row extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  return (await pool.query<Row>({ name, text, values })).rows;
}

/**
 * SQL for a `text[]` sent as one JSON array parameter (`JSON.stringify(strings)` bound to
 * `placeholder`), in the array's order. For bulk inserts of long texts: node-postgres writes a
 * `text[]` parameter as an array literal, escaping each string character by character, several
 * times slower than `JSON.stringify` (14 µs against 2 µs for a 700-byte JSON document).
 */
export function textArrayFromJson(placeholder: string): string {
  return `ARRAY(SELECT value FROM json_array_elements_text(${placeholder}::json)
                 WITH ORDINALITY AS element(value, position) ORDER BY position)`;
}
