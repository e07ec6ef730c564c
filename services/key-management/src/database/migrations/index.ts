import type { MigrationClass } from '@rampart/platform';
import { CreateKeys1764100000000 } from './1764100000000-create-keys.js';
import { KeyPurposesAndLifecycle1764200000000 } from './1764200000000-key-purposes-and-lifecycle.js';
import { RootKeyWrappedBy1764300000000 } from './1764300000000-root-key-wrapped-by.js';
import { CreateKeyPolicies1764400000000 } from './1764400000000-create-key-policies.js';
import { CreateSharing1764600000000 } from './1764600000000-create-sharing.js';

/** The key-management schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const keyManagementMigrations: MigrationClass[] = [
  CreateKeys1764100000000,
  KeyPurposesAndLifecycle1764200000000,
  RootKeyWrappedBy1764300000000,
  CreateKeyPolicies1764400000000,
  CreateSharing1764600000000,
];
