import type { MigrationClass } from '@rampart/platform';
import { CreateOidcModels1764700000000 } from './1764700000000-create-oidc-models.js';
import { CreateAccounts1764800000000 } from './1764800000000-create-accounts.js';
import { AddAccountProfile1764900000000 } from './1764900000000-add-account-profile.js';
import { CreateScimGroups1765000000000 } from './1765000000000-create-scim-groups.js';
import { CreateSessions1765100000000 } from './1765100000000-create-sessions.js';

/** The identity schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const identityMigrations: MigrationClass[] = [
  CreateOidcModels1764700000000,
  CreateAccounts1764800000000,
  AddAccountProfile1764900000000,
  CreateScimGroups1765000000000,
  CreateSessions1765100000000,
];
