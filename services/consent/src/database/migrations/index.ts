import type { MigrationClass } from '@rampart/platform';

/** The consent schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const consentMigrations: MigrationClass[] = [];
