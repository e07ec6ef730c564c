import { SERVICE_ROUTES } from '@rampart/contracts';
import type { ReadinessCheck } from '@rampart/platform';
import { upstreamUrl, type GatewayConfig } from '../config/gateway.config.js';

/** The gateway is ready when every service behind it reports ready. */
export function upstreamReadiness(config: GatewayConfig): ReadinessCheck[] {
  return SERVICE_ROUTES.map((route) => ({
    name: route.service,
    check: async () => {
      const response = await fetch(new URL('/readyz', upstreamUrl(config, route.service)), {
        signal: AbortSignal.timeout(1_500),
      });
      await response.body?.cancel();
      return response.ok;
    },
  }));
}
