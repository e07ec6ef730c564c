import type { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';
import { checkpointConfigShape } from '../checkpoints/checkpoint.config.js';
import { personalDataConfigShape } from '../personal-data/personal-data.config.js';
import { retentionConfigShape } from '../retention/retention.config.js';
import { checkSiemConfig, siemConfigShape } from '../siem/siem.config.js';

/** Environment of the audit service (fields; the schema below adds cross-field rules). */
export const auditConfigFields = dataServiceConfigSchema.extend({
  ...checkpointConfigShape,
  ...personalDataConfigShape,
  ...siemConfigShape,
  ...retentionConfigShape,
});

/** Environment of the audit service; its own variables are added here as features land. */
export const auditConfigSchema = auditConfigFields.superRefine((config, context) => {
  const issue = (variable: string, message: string) =>
    context.addIssue({ code: 'custom', path: [variable], message });
  // Without key-management, identifiers and personal details would be stored in clear.
  if (config.RAMPART_MODE === 'production' && config.AUDIT_KMS_URL === undefined) {
    issue(
      'AUDIT_KMS_URL',
      'required when RAMPART_MODE=production (personal data in records is protected through it)',
    );
  }
  checkSiemConfig(config, issue);
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
