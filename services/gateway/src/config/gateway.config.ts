import { z } from 'zod';
import { GATEWAY_DEFAULT_PORT, SERVICE_ROUTES, type ServiceRoute } from '@rampart/contracts';
import { baseConfigSchema } from '@rampart/platform';

/** `key-management` -> `UPSTREAM_KEY_MANAGEMENT_URL`. */
export function upstreamVariable(service: ServiceRoute['service']): string {
  return `UPSTREAM_${service.toUpperCase().replace(/-/g, '_')}_URL`;
}

const upstreams = Object.fromEntries(
  SERVICE_ROUTES.map((route) => [
    upstreamVariable(route.service),
    z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${route.defaultPort}`),
  ]),
);

export const gatewayConfigSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(GATEWAY_DEFAULT_PORT),
  GATEWAY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  ...upstreams,
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function upstreamUrl(config: GatewayConfig, service: ServiceRoute['service']): string {
  return (config as unknown as Record<string, string>)[upstreamVariable(service)]!;
}
