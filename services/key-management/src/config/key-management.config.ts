import { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';

/** Environment of the key-management service. */
export const keyManagementConfigSchema = dataServiceConfigSchema.extend({
  /** The root key: a file of exactly 32 random bytes, mode 0600 (a mounted secret). */
  KMS_ROOT_KEY_FILE: z.string().min(1),
  /** Days between scheduling a key version's destruction and its erasure, unless a key says otherwise. */
  KMS_DESTRUCTION_WAITING_DAYS: z.coerce.number().int().min(1).max(30).default(7),
  /** How often scheduled rotations and destructions are looked for. */
  KMS_SCHEDULER_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
});

export type KeyManagementConfig = z.infer<typeof keyManagementConfigSchema>;
