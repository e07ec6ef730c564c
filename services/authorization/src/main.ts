// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('authorization');
const { runStandalone } = await import('@rampart/platform');
const { authorizationService } = await import('./authorization.service.js');
await runStandalone(authorizationService);
