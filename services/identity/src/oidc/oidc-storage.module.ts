import { Module } from '@nestjs/common';
import { OidcModelPurger } from './oidc-model-purger.js';

/**
 * oidc-provider's storage. The provider itself takes `postgresAdapterFactory(dataSource)`; this
 * module keeps the table trimmed of expired rows.
 */
@Module({
  providers: [OidcModelPurger],
  exports: [OidcModelPurger],
})
export class OidcStorageModule {}
