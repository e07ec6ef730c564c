import { Module } from '@nestjs/common';
import { OidcStorageModule } from './oidc/oidc-storage.module.js';

/** The identity service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({ imports: [OidcStorageModule] })
export class IdentityModule {}
