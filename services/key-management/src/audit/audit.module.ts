import { Module } from '@nestjs/common';
import { KeyAuditTrail } from './key-audit-trail.js';

/** The audit trail of key use, one per process (its buffer is flushed at shutdown). */
@Module({ providers: [KeyAuditTrail], exports: [KeyAuditTrail] })
export class AuditModule {}
