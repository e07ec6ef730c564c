import { defineEdgeService } from '@rampart/platform';
import { GatewayModule } from './app.module.js';
import { gatewayConfigSchema, type GatewayConfig } from './config/gateway.config.js';
import { upstreamReadiness } from './proxy/upstream-readiness.js';
import { configureEdge } from './security/configure-edge.js';
import { legacyReport, reportingBatch } from './security/csp-reports.js';

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
    {
      method: 'post',
      path: '/csp-reports',
      operationId: 'reportCspViolation',
      summary:
        'Content security policy violation reports (application/csp-report or application/reports+json, at most 16 KiB).',
      security: 'public',
      requestContent: {
        'application/csp-report': legacyReport,
        'application/reports+json': reportingBatch,
      },
      responses: {
        204: { description: 'Received.' },
        400: { description: 'Not JSON, or not a report.' },
        413: { description: 'Larger than 16 KiB.' },
        415: { description: 'Neither report media type.' },
      },
    },
    {
      method: 'get',
      path: '/.well-known/security.txt',
      operationId: 'getSecurityTxt',
      summary: 'How to report a vulnerability (RFC 9116).',
      security: 'public',
      responses: { 200: { description: 'The security.txt file.', mediaType: 'text/plain' } },
    },
  ],
  readiness: upstreamReadiness,
  configureHttp: configureEdge,
});
