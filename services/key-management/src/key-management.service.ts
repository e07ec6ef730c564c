import {
  KeyAccessEvents,
  KeyEvents,
  KeyManagementLifecycle,
  KeyPolicyEvents,
  SharedObjectEvents,
} from '@rampart/contracts';
import { defineDataService } from '@rampart/platform';
import { KeyManagementModule } from './app.module.js';
import { keyManagementConfigSchema } from './config/key-management.config.js';
import { keyManagementMigrations } from './database/migrations/index.js';
import { keyManagementRoutes } from './keys/keys.routes.js';
import { rootOfTrustRoutes } from './root-of-trust/root.routes.js';
import { keyPolicyRoutes } from './policies/key-policies.routes.js';
import { sharingRoutes } from './sharing/sharing.routes.js';

export const keyManagementService = defineDataService({
  name: 'key-management',
  version: '0.1.0',
  description: 'Root of trust: key rings, envelope encryption, signing keys and crypto-shredding.',
  module: KeyManagementModule,
  configSchema: keyManagementConfigSchema,
  migrations: keyManagementMigrations,
  startedEvent: KeyManagementLifecycle.started,
  produces: [
    ...Object.values(KeyEvents),
    ...Object.values(SharedObjectEvents),
    KeyAccessEvents.accessed,
    KeyPolicyEvents.updated,
  ],
  routes: [...keyManagementRoutes, ...rootOfTrustRoutes, ...sharingRoutes, ...keyPolicyRoutes],
});
