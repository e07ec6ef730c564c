import type { MigrationClass } from '@rampart/platform';

/** The key-management schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const keyManagementMigrations: MigrationClass[] = [];
