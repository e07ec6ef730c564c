import { AuthorizationLifecycle } from '@rampart/contracts';
import { defineDataService } from '@rampart/platform';
import { AuthorizationModule } from './app.module.js';
import { authorizationConfigSchema } from './config/authorization.config.js';
import { authorizationMigrations } from './database/migrations/index.js';

export const authorizationService = defineDataService({
  name: 'authorization',
  version: '0.1.0',
  description: 'Relationship-based fine-grained authorization with an OpenFGA-compatible API.',
  module: AuthorizationModule,
  configSchema: authorizationConfigSchema,
  migrations: authorizationMigrations,
  startedEvent: AuthorizationLifecycle.started,
});
