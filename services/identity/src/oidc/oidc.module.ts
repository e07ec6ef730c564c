import { Module } from '@nestjs/common';
import { OidcClients } from './oidc-clients.js';
import { OidcModelPurger } from './oidc-model-purger.js';
import { OidcProviderHost } from './oidc-provider-host.js';

/**
 * The OpenID Connect provider (oidc-provider on the PostgreSQL adapter), mounted under `/oidc`
 * and `/.well-known`, and the purge that keeps its table trimmed of expired rows.
 */
@Module({
  providers: [OidcModelPurger, OidcProviderHost, OidcClients],
  exports: [OidcModelPurger, OidcProviderHost, OidcClients],
})
export class OidcModule {}
