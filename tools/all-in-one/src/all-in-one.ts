import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { GATEWAY_DEFAULT_PORT, SERVICE_ROUTES, type ServiceRoute } from '@rampart/contracts';
import {
  ConfigError,
  createLogger,
  ensureDatabase,
  ensureWorkloadKeys,
  InProcessTransport,
  loadConfig,
  provisionServiceDatabase,
  startService,
  withCredentials,
  type DataServiceDefinition,
  type EventTransport,
  type RunningService,
} from '@rampart/platform';
import { auditService } from '@rampart/audit';
import { authorizationService } from '@rampart/authorization';
import { consentService } from '@rampart/consent';
import { gatewayService } from '@rampart/gateway';
import { identityService } from '@rampart/identity';
import { keyManagementService } from '@rampart/key-management';
import { ensureDevelopmentRootKey } from './development-root-key.js';
import { startEmbeddedDatabase } from './embedded-database.js';
import { acquireInstanceLock } from './instance-lock.js';

const DATA_SERVICES: DataServiceDefinition[] = [
  identityService,
  authorizationService,
  keyManagementService,
  consentService,
  auditService,
];

const launcherConfigSchema = z.object({
  RAMPART_MODE: z.enum(['development', 'production']).default('development'),
  RAMPART_HOME: z.string().default('.rampart'),
  /** The gateway's port; services take the next five. */
  RAMPART_PORT: z.coerce.number().int().min(1024).max(65_000).default(GATEWAY_DEFAULT_PORT),
  RAMPART_POSTGRES_PORT: z.coerce.number().int().min(1024).max(65_535).default(54_329),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  KAFKA_BROKERS: z.string().optional(),
});

export interface AllInOne {
  gatewayUrl: string;
  services: RunningService[];
  stop(): Promise<void>;
}

/**
 * Every service (and the gateway, for each API it protects) accepts access tokens from identity,
 * checked against key-management's JWK Set; each API's audience is its own URL through the
 * gateway (its RFC 8707 resource indicator).
 */
function accessTokenEnv(
  issuer: string,
  keyManagementUrl: string,
  service: string,
): Record<string, string> {
  const prefix = SERVICE_ROUTES.find((route) => route.service === service)?.prefixes.at(-1);
  return {
    ACCESS_TOKEN_ISSUER: issuer,
    ACCESS_TOKEN_JWKS_URI: `${keyManagementUrl}/kms/v1/jwks`,
    ...(prefix ? { ACCESS_TOKEN_AUDIENCE: `${issuer}${prefix}` } : {}),
  };
}

/**
 * The gateway's rate-limit quotas are the one service setting all-in-one passes on: a developer
 * or a test driving many sign-ins from 127.0.0.1 may need more than the production defaults.
 * The store stays in memory (one process).
 */
function rateLimitQuotas(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        /^GATEWAY_RATE_LIMIT_(DEFAULT|BEARER|SIGN_IN|TOKEN|REGISTRATION|RECOVERY|MEMORY_MAX_KEYS)$/.test(
          entry[0],
        ) && entry[1] !== undefined,
    ),
  );
}

function schemaOf(service: string): string {
  return service.replace(/-/g, '_');
}

/**
 * Every service in this process, each its own Nest app on its own port, sharing an embedded
 * PostgreSQL (a schema and role each) and the in-process event transport (or Kafka when
 * KAFKA_BROKERS is set). Nothing is trusted for being local: services still authenticate each
 * other with workload keys, created here on first start.
 */
export async function startAllInOne(
  env: Record<string, string | undefined> = process.env,
): Promise<AllInOne> {
  const config = loadConfig('all-in-one', launcherConfigSchema as never, env) as z.infer<
    typeof launcherConfigSchema
  >;
  if (config.RAMPART_MODE === 'production') {
    throw new ConfigError('all-in-one', [
      {
        variable: 'RAMPART_MODE',
        message:
          'all-in-one mode generates its own keys and runs an embedded database, so it is refused when ' +
          'RAMPART_MODE=production; deploy the services separately instead',
      },
    ]);
  }
  const home = resolve(config.RAMPART_HOME);
  await mkdir(home, { recursive: true, mode: 0o755 });
  const releaseLock = acquireInstanceLock(join(home, 'rampart.lock'));
  const logger = createLogger('all-in-one', config.LOG_LEVEL);
  const stops: (() => Promise<void>)[] = [() => Promise.resolve(releaseLock())];
  const stop = async () => {
    for (const step of stops.splice(0).reverse())
      await step().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  };
  try {
    const database = await startEmbeddedDatabase(home, config.RAMPART_POSTGRES_PORT);
    stops.push(() => database.stop());
    await ensureDatabase(database.adminUrl, 'rampart');
    const adminUrl = withCredentials(database.adminUrl, {
      user: 'postgres',
      password: decodeURIComponent(new URL(database.adminUrl).password),
      database: 'rampart',
    });
    const keys = await ensureWorkloadKeys(join(home, 'workload'), [
      'gateway',
      ...DATA_SERVICES.map((s) => s.name),
    ]);
    const bootstrapFile = join(home, 'bootstrap.json');
    const firstStart = !existsSync(bootstrapFile);
    const rootKeyFile = await ensureDevelopmentRootKey(home);

    const transport: EventTransport | undefined = config.KAFKA_BROKERS
      ? undefined
      : new InProcessTransport();
    const portOf = (service: ServiceRoute['service']) =>
      config.RAMPART_PORT + 1 + SERVICE_ROUTES.findIndex((route) => route.service === service);
    const common = {
      RAMPART_MODE: config.RAMPART_MODE,
      LOG_LEVEL: config.LOG_LEVEL,
      HOST: '127.0.0.1',
      WORKLOAD_TRUST_DIR: keys.trustDir,
      // Read by key-management only; the other services' schemas drop it.
      KMS_ROOT_KEY_FILE: rootKeyFile,
      ...(config.KAFKA_BROKERS ? { KAFKA_BROKERS: config.KAFKA_BROKERS } : {}),
    };

    // Roles and schemas one at a time (concurrent GRANT/REVOKE on one database conflict), then
    // the data services in parallel: they share nothing but the database server.
    const databaseUrls = new Map<string, string>();
    for (const definition of DATA_SERVICES) {
      const schema = schemaOf(definition.name);
      const role = `rampart_${schema}`;
      const credentials = await provisionServiceDatabase(adminUrl, 'rampart', { schema, role });
      databaseUrls.set(
        definition.name,
        withCredentials(adminUrl, { user: role, password: credentials.password }),
      );
    }
    const issuer = `http://localhost:${config.RAMPART_PORT}`;
    const serviceUrl = (service: ServiceRoute['service']) => `http://127.0.0.1:${portOf(service)}`;
    const startData = (definition: DataServiceDefinition) =>
      startService(definition, {
        mode: 'all-in-one',
        ...(transport ? { transport } : {}),
        env: {
          ...common,
          ...accessTokenEnv(issuer, serviceUrl('key-management'), definition.name),
          ...(definition.name === 'identity'
            ? {
                RAMPART_ISSUER: issuer,
                IDENTITY_KMS_URL: serviceUrl('key-management'),
                WORKLOAD_ENCRYPTION_KEY_FILE: keys.encryptionKeyFile('identity'),
                IDENTITY_MAILBOX_DIR: join(home, 'mailbox'),
                IDENTITY_BOOTSTRAP_FILE: bootstrapFile,
              }
            : {}),
          ...(definition.name === 'audit' ? { AUDIT_KMS_URL: serviceUrl('key-management') } : {}),
          PORT: String(portOf(definition.name as ServiceRoute['service'])),
          DATABASE_URL: databaseUrls.get(definition.name),
          DATABASE_SCHEMA: schemaOf(definition.name),
          WORKLOAD_KEY_FILE: keys.keyFile(definition.name),
        },
      });
    // Key-management first: identity fetches its token-signing keys from it while starting.
    const outcomes: PromiseSettledResult<RunningService>[] = [];
    outcomes.push(...(await Promise.allSettled([startData(keyManagementService)])));
    if (outcomes[0]!.status === 'fulfilled') {
      outcomes.push(
        ...(await Promise.allSettled(
          DATA_SERVICES.filter((definition) => definition !== keyManagementService).map(startData),
        )),
      );
    }
    const order = (service: RunningService) =>
      DATA_SERVICES.findIndex((definition) => definition.name === service.name);
    // Listed in the service map's order, whatever order they started in.
    const started = outcomes
      .flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))
      .sort((a, b) => order(a) - order(b));
    for (const service of started) stops.push(() => service.stop());
    // Stopping runs these two first (newest first): the transport refuses new deliveries, then
    // every relay stops, before any consumer's database goes away.
    stops.push(async () => {
      await Promise.all(
        started.flatMap((service) => (service.messaging ? [service.messaging.stop()] : [])),
      );
    });
    if (transport) stops.push(() => transport.stop());
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    // Every consumer of the process is subscribed: deliveries may begin.
    await transport?.start();
    const upstreams = Object.fromEntries(
      SERVICE_ROUTES.map((route) => [
        `UPSTREAM_${route.service.toUpperCase().replace(/-/g, '_')}_URL`,
        `http://127.0.0.1:${portOf(route.service)}`,
      ]),
    );
    const gateway = await startService(gatewayService, {
      mode: 'all-in-one',
      env: {
        ...common,
        ...upstreams,
        // The edge checks access tokens for the APIs before they are proxied (issue 6).
        ...accessTokenEnv(issuer, serviceUrl('key-management'), 'gateway'),
        PORT: String(config.RAMPART_PORT),
        WORKLOAD_KEY_FILE: keys.keyFile('gateway'),
        ...rateLimitQuotas(env),
      },
    });
    stops.push(() => gateway.stop());
    if (firstStart && existsSync(bootstrapFile)) {
      process.stdout.write(
        `[rampart] first start: administrator and admin client credentials written to ${bootstrapFile} (mode 0600)\n`,
      );
    }
    return {
      gatewayUrl: issuer,
      services: [...started, gateway],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
