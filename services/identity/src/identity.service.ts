import {
  AccountEvents,
  IdentityLifecycle,
  LoginEvents,
  OidcClientEvents,
  OidcGrantEvents,
  OidcRequestEvents,
  ScimEvents,
  SessionEvents,
} from '@rampart/contracts';
import { defineDataService } from '@rampart/platform';
import { IdentityModule } from './app.module.js';
import { identityConfigSchema } from './config/identity.config.js';
import { identityMigrations } from './database/migrations/index.js';
import { scimRoutes } from './scim/scim.routes.js';
import { sessionsAdminRoutes } from './sessions/sessions-admin.routes.js';
import { signingKeysConsumer } from './oidc/signing-keys.consumer.js';

export const identityService = defineDataService({
  name: 'identity',
  version: '0.1.0',
  description: 'OpenID Connect provider, accounts, credentials, sessions and SCIM.',
  module: IdentityModule,
  configSchema: identityConfigSchema,
  migrations: identityMigrations,
  startedEvent: IdentityLifecycle.started,
  produces: [
    ...Object.values(AccountEvents),
    ...Object.values(LoginEvents),
    ...Object.values(OidcClientEvents),
    ...Object.values(OidcGrantEvents),
    ...Object.values(OidcRequestEvents),
    ...Object.values(ScimEvents),
    ...Object.values(SessionEvents),
  ],
  routes: [...scimRoutes, ...sessionsAdminRoutes],
  consumers: [signingKeysConsumer],
});
