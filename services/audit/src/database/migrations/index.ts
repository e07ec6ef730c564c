import type { MigrationClass } from '@rampart/platform';
import { CreateAuditRecords1765200000000 } from './1765200000000-create-audit-records.js';
import { CreateAuditMerkleSubtrees1765300000000 } from './1765300000000-create-audit-merkle-subtrees.js';
import { CreateAuditCheckpoints1765300000001 } from './1765300000001-create-audit-checkpoints.js';
import { IndexAuditQueryFilters1765400000000 } from './1765400000000-index-audit-query-filters.js';
import { CreateAuditPseudonymKeys1765500000000 } from './1765500000000-create-audit-pseudonym-keys.js';
import { CreateAuditSiemCursors1765600000000 } from './1765600000000-create-audit-siem-cursors.js';
import { AuditRetentionArchives1765700000000 } from './1765700000000-audit-retention-archives.js';
import { AuditFilterColumns1765900000000 } from './1765900000000-audit-filter-columns.js';
import { StreamFromChain1765900000001 } from './1765900000001-stream-from-chain.js';

/** The audit schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const auditMigrations: MigrationClass[] = [
  CreateAuditRecords1765200000000,
  CreateAuditMerkleSubtrees1765300000000,
  CreateAuditCheckpoints1765300000001,
  IndexAuditQueryFilters1765400000000,
  CreateAuditPseudonymKeys1765500000000,
  CreateAuditSiemCursors1765600000000,
  AuditRetentionArchives1765700000000,
  AuditFilterColumns1765900000000,
  StreamFromChain1765900000001,
];
