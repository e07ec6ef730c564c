import { Module } from '@nestjs/common';

/** The consent service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({})
export class ConsentModule {}
