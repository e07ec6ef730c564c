import type { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';
import { checkpointConfigShape } from '../checkpoints/checkpoint.config.js';

/** Environment of the audit service; its own variables are added here as features land. */
export const auditConfigSchema = dataServiceConfigSchema.extend({
  ...checkpointConfigShape,
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
