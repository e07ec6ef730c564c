import { ConfigError } from '../config/config.js';
import { createLogger } from '../telemetry/logger.js';
import type { ServiceDefinition } from './service-definition.js';
import { startService } from './start-service.js';

/**
 * The distributed mode entry point of one service: start it from the environment, stop it
 * gracefully on SIGTERM/SIGINT, and exit non-zero with the reason if it cannot start.
 */
export async function runStandalone(definition: ServiceDefinition): Promise<void> {
  try {
    const service = await startService(definition, { mode: 'distributed' });
    const shutdown = (signal: string) => {
      service.logger.info({ signal }, 'shutting down');
      service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    createLogger(definition.name).fatal({ err: error }, `${definition.name} failed to start`);
    process.exit(1);
  }
}
