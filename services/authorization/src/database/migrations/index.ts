import type { MigrationClass } from '@rampart/platform';

/** The authorization schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const authorizationMigrations: MigrationClass[] = [];
