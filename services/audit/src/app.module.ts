import { Module } from '@nestjs/common';
import { CheckpointsModule } from './checkpoints/checkpoints.module.js';
import { ProofsModule } from './proofs/proofs.module.js';
import { VerifyModule } from './verify/verify.module.js';

/** The audit service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({ imports: [VerifyModule, CheckpointsModule, ProofsModule] })
export class AuditModule {}
