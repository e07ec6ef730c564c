import type { MigrationClass } from '@rampart/platform';
import { CreateOidcModels1764700000000 } from './1764700000000-create-oidc-models.js';

/** The identity schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const identityMigrations: MigrationClass[] = [CreateOidcModels1764700000000];
