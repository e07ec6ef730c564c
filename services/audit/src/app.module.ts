import { Module } from '@nestjs/common';
import { ExportModule } from './export/export.module.js';
import { QueryModule } from './query/query.module.js';
import { VerifyModule } from './verify/verify.module.js';

/** The audit service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({ imports: [VerifyModule, QueryModule, ExportModule] })
export class AuditModule {}
