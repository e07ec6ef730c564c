import { KeyEvents, KeyManagementLifecycle } from '@rampart/contracts';
import { defineDataService } from '@rampart/platform';
import { KeyManagementModule } from './app.module.js';
import { keyManagementConfigSchema } from './config/key-management.config.js';
import { keyManagementMigrations } from './database/migrations/index.js';
import { keyManagementRoutes } from './keys/keys.routes.js';
import { rootOfTrustRoutes } from './root-of-trust/root.routes.js';

export const keyManagementService = defineDataService({
  name: 'key-management',
  version: '0.1.0',
  description: 'Root of trust: key rings, envelope encryption, signing keys and crypto-shredding.',
  module: KeyManagementModule,
  configSchema: keyManagementConfigSchema,
  migrations: keyManagementMigrations,
  startedEvent: KeyManagementLifecycle.started,
  produces: [KeyEvents.created, KeyEvents.rotated],
  routes: [...keyManagementRoutes, ...rootOfTrustRoutes],
});
