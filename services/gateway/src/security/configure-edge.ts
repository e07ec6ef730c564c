import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '@rampart/platform';
import type { GatewayConfig } from '../config/gateway.config.js';
import { EdgeTokens } from '../edge/edge-tokens.js';
import { registerProxies } from '../proxy/proxy.js';
import { registerRateLimits } from '../rate-limits/rate-limits.js';
import { answerMalformedRequests } from './client-errors.js';
import { ClientProtocol } from './client-protocol.js';
import { registerCors } from './cors.js';
import { registerCspReports } from './csp-reports.js';
import { registerSecurityHeaders } from './security-headers.js';
import { registerSecurityTxt } from './security-txt.js';

/**
 * Everything the public edge does besides Nest's own routes: the security headers first (so they
 * cover every route registered after), rate limits, the gateway's own endpoints, then the proxies.
 */
export async function configureEdge(
  app: NestFastifyApplication,
  config: GatewayConfig,
  logger: Logger,
): Promise<void> {
  if (config.GATEWAY_SECURITY_CONTACT === 'mailto:security@rampart.invalid')
    logger.warn(
      'GATEWAY_SECURITY_CONTACT is not set: security.txt names a placeholder address (refused in production)',
    );
  if (!config.ACCESS_TOKEN_ISSUER)
    logger.warn(
      'ACCESS_TOKEN_ISSUER is not set: every request to /authz, /kms, /privacy and /audit that needs a token is refused at the edge',
    );
  const protocol = new ClientProtocol(config.GATEWAY_TRUSTED_PROXIES);
  registerSecurityHeaders(app, protocol);
  // Before CORS, so a flood of preflights spends quota too.
  await registerRateLimits(app, config, logger);
  registerCors(app, config.GATEWAY_CORS_ALLOWLIST, logger);
  answerMalformedRequests(app.getHttpServer());
  registerSecurityTxt(app, config);
  await registerCspReports(app, logger);
  const edgeTokens = new EdgeTokens({
    issuer: config.ACCESS_TOKEN_ISSUER,
    jwksUri: config.ACCESS_TOKEN_JWKS_URI,
  });
  await registerProxies(app, config, logger, protocol, edgeTokens);
}
