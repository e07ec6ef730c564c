import { Module } from '@nestjs/common';

/** The authorization service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({})
export class AuthorizationModule {}
