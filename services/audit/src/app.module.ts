import { Module } from '@nestjs/common';
import { CheckpointsModule } from './checkpoints/checkpoints.module.js';
import { ExportModule } from './export/export.module.js';
import { PersonalDataModule } from './personal-data/personal-data.module.js';
import { ProofsModule } from './proofs/proofs.module.js';
import { QueryModule } from './query/query.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { SiemModule } from './siem/siem.module.js';
import { AuditStreamModule } from './stream/audit-stream.module.js';
import { VerifyModule } from './verify/verify.module.js';

/** The audit service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({
  imports: [
    PersonalDataModule,
    VerifyModule,
    CheckpointsModule,
    ProofsModule,
    QueryModule,
    ExportModule,
    SiemModule,
    AuditStreamModule,
    RetentionModule,
  ],
})
export class AuditModule {}
