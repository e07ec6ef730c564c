import { dataServiceConfigSchema } from '@rampart/platform';

/** Environment of the audit service; its own variables are added here as features land. */
export const auditConfigSchema = dataServiceConfigSchema;
