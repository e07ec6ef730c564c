import { ConsentLifecycle } from '@rampart/contracts';
import { defineDataService } from '@rampart/platform';
import { ConsentModule } from './app.module.js';
import { consentConfigSchema } from './config/consent.config.js';
import { consentMigrations } from './database/migrations/index.js';

export const consentService = defineDataService({
  name: 'consent',
  version: '0.1.0',
  description:
    'Consent records, Global Privacy Control, data inventory, retention and data-subject requests.',
  module: ConsentModule,
  configSchema: consentConfigSchema,
  migrations: consentMigrations,
  startedEvent: ConsentLifecycle.started,
});
