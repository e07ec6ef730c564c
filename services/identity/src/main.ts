// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('identity');
const { runStandalone } = await import('@rampart/platform');
const { identityService } = await import('./identity.service.js');
await runStandalone(identityService);
