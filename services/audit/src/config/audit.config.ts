import type { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';
import { checkpointConfigShape } from '../checkpoints/checkpoint.config.js';
import { personalDataConfigShape } from '../personal-data/personal-data.config.js';

/** Environment of the audit service; its own variables are added here as features land. */
export const auditConfigSchema = dataServiceConfigSchema
  .extend({
    ...checkpointConfigShape,
    ...personalDataConfigShape,
  })
  // Without key-management, identifiers and personal details would be stored in clear.
  .refine((config) => config.RAMPART_MODE !== 'production' || config.AUDIT_KMS_URL !== undefined, {
    path: ['AUDIT_KMS_URL'],
    message:
      'required when RAMPART_MODE=production (personal data in records is protected through it)',
  });

export type AuditConfig = z.infer<typeof auditConfigSchema>;
