import type { MigrationClass } from '@rampart/platform';

/** The identity schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const identityMigrations: MigrationClass[] = [];
