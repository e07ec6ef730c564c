import { defineEdgeService } from '@rampart/platform';
import { GatewayModule } from './app.module.js';
import { gatewayConfigSchema, type GatewayConfig } from './config/gateway.config.js';
import { registerProxies } from './proxy/proxy.js';
import { upstreamReadiness } from './proxy/upstream-readiness.js';

export const gatewayService = defineEdgeService<GatewayConfig>({
  kind: 'edge',
  name: 'gateway',
  version: '0.1.0',
  description: 'The only public edge: routes each prefix to its service.',
  module: GatewayModule,
  configSchema: gatewayConfigSchema,
  openApiPath: '/openapi.json',
  routes: [
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: "The gateway's own OpenAPI document; each service's is under its prefix.",
      security: 'public',
      responses: { 200: { description: 'The OpenAPI document.' } },
    },
  ],
  readiness: upstreamReadiness,
  configureHttp: registerProxies,
});
