import { Module } from '@nestjs/common';

/** The identity service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({})
export class IdentityModule {}
