import { Module } from '@nestjs/common';

/** The audit service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({})
export class AuditModule {}
