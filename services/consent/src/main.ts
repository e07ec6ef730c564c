// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('consent');
const { runStandalone } = await import('@rampart/platform');
const { consentService } = await import('./consent.service.js');
await runStandalone(consentService);
