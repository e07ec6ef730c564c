import type { MigrationClass } from '@rampart/platform';
import { CreateAuditRecords1765200000000 } from './1765200000000-create-audit-records.js';
import { IndexAuditQueryFilters1765400000000 } from './1765400000000-index-audit-query-filters.js';

/** The audit schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const auditMigrations: MigrationClass[] = [
  CreateAuditRecords1765200000000,
  IndexAuditQueryFilters1765400000000,
];
