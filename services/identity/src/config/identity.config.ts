import { dataServiceConfigSchema } from '@rampart/platform';

/** Environment of the identity service; its own variables are added here as features land. */
export const identityConfigSchema = dataServiceConfigSchema;
