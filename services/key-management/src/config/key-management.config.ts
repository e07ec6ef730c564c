import { dataServiceConfigSchema } from '@rampart/platform';

/** Environment of the key-management service; its own variables are added here as features land. */
export const keyManagementConfigSchema = dataServiceConfigSchema;
