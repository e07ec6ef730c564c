import type { MigrationClass } from '@rampart/platform';

/** The audit schema's migrations, oldest first (the platform adds its messaging tables before them). */
export const auditMigrations: MigrationClass[] = [];
