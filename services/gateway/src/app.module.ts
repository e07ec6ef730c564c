import { Module } from '@nestjs/common';

/** The gateway owns no data; its behaviour is the proxy registered on the HTTP server. */
@Module({})
export class GatewayModule {}
