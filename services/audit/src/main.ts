// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('audit');
const { runStandalone } = await import('@rampart/platform');
const { auditService } = await import('./audit.service.js');
await runStandalone(auditService);
