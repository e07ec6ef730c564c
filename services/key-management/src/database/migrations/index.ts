import type { MigrationClass } from '@rampart/platform';
import { CreateKeys1764100000000 } from './1764100000000-create-keys.js';
import { CreateKeyPolicies1764400000000 } from './1764400000000-create-key-policies.js';

/** The key-management schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const keyManagementMigrations: MigrationClass[] = [
  CreateKeys1764100000000,
  CreateKeyPolicies1764400000000,
];
