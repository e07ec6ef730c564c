import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayConfig } from '../config/gateway.config.js';

export const SECURITY_TXT_PATH = '/.well-known/security.txt';

/** RFC 9116's fields, in its order; optional ones only when configured. */
export function securityTxt(config: GatewayConfig): string {
  const lines = [
    `Contact: ${config.GATEWAY_SECURITY_CONTACT}`,
    `Expires: ${config.GATEWAY_SECURITY_TXT_EXPIRES.toISOString()}`,
    ...(config.GATEWAY_SECURITY_POLICY_URL
      ? [`Policy: ${config.GATEWAY_SECURITY_POLICY_URL}`]
      : []),
    'Preferred-Languages: en',
    ...(config.GATEWAY_PUBLIC_URL
      ? [`Canonical: ${new URL(SECURITY_TXT_PATH, config.GATEWAY_PUBLIC_URL).href}`]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `GET /.well-known/security.txt`, answered by the gateway itself: the rest of `/.well-known` is
 * identity's, but this file is about the whole deployment. A static route wins over the proxy's
 * `/.well-known/*` wildcard in Fastify's router.
 */
export function registerSecurityTxt(app: NestFastifyApplication, config: GatewayConfig) {
  const body = securityTxt(config);
  app
    .getHttpAdapter()
    .getInstance()
    .get(SECURITY_TXT_PATH, async (_request, reply) =>
      reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'public, max-age=86400')
        .send(body),
    );
}
