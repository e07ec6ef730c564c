// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('key-management');
const { runStandalone } = await import('@rampart/platform');
const { keyManagementService } = await import('./key-management.service.js');
await runStandalone(keyManagementService);
