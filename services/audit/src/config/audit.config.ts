import type { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';
import { checkpointConfigShape } from '../checkpoints/checkpoint.config.js';
import { retentionConfigShape } from '../retention/retention.config.js';
import { checkSiemConfig, siemConfigShape } from '../siem/siem.config.js';

/** Environment of the audit service (fields; the schema below adds cross-field rules). */
export const auditConfigFields = dataServiceConfigSchema.extend({
  ...checkpointConfigShape,
  ...siemConfigShape,
  ...retentionConfigShape,
});

/** Environment of the audit service; its own variables are added here as features land. */
export const auditConfigSchema = auditConfigFields.superRefine((config, context) => {
  const issue = (variable: string, message: string) =>
    context.addIssue({ code: 'custom', path: [variable], message });
  checkSiemConfig(config, issue);
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
