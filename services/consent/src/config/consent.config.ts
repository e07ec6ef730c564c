import { dataServiceConfigSchema } from '@rampart/platform';

/** Environment of the consent service; its own variables are added here as features land. */
export const consentConfigSchema = dataServiceConfigSchema;
