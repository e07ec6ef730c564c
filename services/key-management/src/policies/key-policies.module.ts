import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { KeyAccess } from './key-access.js';
import { KeyPoliciesController } from './key-policies.controller.js';
import { KeyPoliciesRepository } from './key-policies.repository.js';
import { KeyPolicies } from './key-policies.service.js';

/**
 * Key policies and the guard every key operation goes through. Import it where keys are served:
 * `KeyAccess.perform` for a whole call, or `KeyPolicies.authorize` with `KeyAuditTrail` directly.
 */
@Module({
  imports: [AuditModule],
  controllers: [KeyPoliciesController],
  providers: [KeyPoliciesRepository, KeyPolicies, KeyAccess],
  exports: [KeyPolicies, KeyAccess, AuditModule],
})
export class KeyPoliciesModule {}
