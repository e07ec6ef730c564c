import { Module } from '@nestjs/common';

/** The key-management service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({})
export class KeyManagementModule {}
