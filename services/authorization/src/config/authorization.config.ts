import { dataServiceConfigSchema } from '@rampart/platform';

/** Environment of the authorization service; its own variables are added here as features land. */
export const authorizationConfigSchema = dataServiceConfigSchema;
