import { Module } from '@nestjs/common';
import { CheckpointsModule } from './checkpoints/checkpoints.module.js';
import { VerifyModule } from './verify/verify.module.js';

/** The audit service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({ imports: [VerifyModule, CheckpointsModule] })
export class AuditModule {}
