import { Injectable } from '@nestjs/common';
import { versionBinding } from './root-key.js';

/**
 * A table holding values wrapped by the root key. Besides the wrapped column it must have a
 * `wrapped_by text` column that its writers set to the wrapping root's id (`rootKey.id`).
 */
export interface WrappedTable {
  /** The table, in the service's schema. */
  table: string;
  /** Its primary key columns, in index order: rotation walks the table in this order. */
  keyColumns: readonly string[];
  /** The `bytea` column holding the wrapped value; NULL means nothing to rewrap (destroyed). */
  materialColumn: string;
  /** The binding the row's value was wrapped under, from its key columns (the writer's binding). */
  binding: (row: Readonly<Record<string, unknown>>) => string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Key versions (keys/): the first table the root key wraps. */
export const KEY_VERSIONS_TABLE: WrappedTable = {
  table: 'key_versions',
  keyColumns: ['key_name', 'version'],
  materialColumn: 'wrapped_material',
  binding: (row) => versionBinding(String(row['key_name']), Number(row['version'])),
};

/**
 * Every table whose values root rotation rewraps. A module that stores root-wrapped values
 * registers its table once, when it is constructed (see docs/architecture/key-management.md).
 */
@Injectable()
export class WrappedTables {
  private readonly tables = new Map<string, WrappedTable>([
    [KEY_VERSIONS_TABLE.table, KEY_VERSIONS_TABLE],
  ]);

  register(table: WrappedTable): void {
    for (const name of [table.table, table.materialColumn, ...table.keyColumns]) {
      // Names are spliced into SQL: only plain lower-case identifiers.
      if (!IDENTIFIER.test(name)) throw new Error(`${name} is not a plain SQL identifier`);
    }
    if (table.keyColumns.length === 0) throw new Error(`${table.table} needs its key columns`);
    if (this.tables.has(table.table)) throw new Error(`${table.table} is registered already`);
    this.tables.set(table.table, table);
  }

  list(): WrappedTable[] {
    return [...this.tables.values()];
  }
}
