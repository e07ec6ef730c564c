import { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';
import { tokenSigningConfigShape } from '../token-signing/token-signing.config.js';

/** Environment of the key-management service. */
export const keyManagementConfigSchema = dataServiceConfigSchema.extend({
  /** The root key: a file of exactly 32 random bytes, mode 0600 (a mounted secret). */
  KMS_ROOT_KEY_FILE: z.string().min(1),
  ...tokenSigningConfigShape,
});

export type KeyManagementConfig = z.infer<typeof keyManagementConfigSchema>;
