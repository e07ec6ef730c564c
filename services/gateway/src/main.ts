// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('gateway');
const { runStandalone } = await import('@rampart/platform');
const { gatewayService } = await import('./gateway.service.js');
await runStandalone(gatewayService);
