import {
  AuditCheckpointEvents,
  AuditLifecycle,
  AuditQueryEvents,
  AuditRetentionEvents,
  AuditStreamEvents,
} from '@rampart/contracts';
import { defineDataService } from '@rampart/platform';
import { AuditModule } from './app.module.js';
import { auditConfigSchema } from './config/audit.config.js';
import { auditMigrations } from './database/migrations/index.js';
import { ingestConsumer } from './ingest/ingest.consumer.js';
import { exportRoutes } from './export/export.routes.js';
import { queryRoutes } from './query/query.routes.js';
import { proofRoutes } from './proofs/proofs.routes.js';
import { verifyRoutes } from './verify/verify.routes.js';
import { AUDIT_VERSION } from './version.js';

export const auditService = defineDataService({
  name: 'audit',
  version: AUDIT_VERSION,
  description: 'Tamper-evident audit log of every security event.',
  module: AuditModule,
  configSchema: auditConfigSchema,
  migrations: auditMigrations,
  startedEvent: AuditLifecycle.started,
  produces: [
    AuditQueryEvents.performed,
    AuditStreamEvents.appended,
    AuditCheckpointEvents.signed,
    ...Object.values(AuditRetentionEvents),
  ],
  consumers: [ingestConsumer],
  routes: [...verifyRoutes, ...proofRoutes, ...queryRoutes, ...exportRoutes],
});
