import { AllowedMethods } from '../http/allowed-methods.js';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import {
  assertDataServiceDeployable,
  loadConfig,
  type BaseConfig,
  type DataServiceConfig,
} from '../config/config.js';
import { createServiceDataSource, openAndMigrate } from '../database/data-source.js';
import { ProblemDetailsFilter, replyWithProblem } from '../errors/problem-details.filter.js';
import type { ReadinessCheck } from '../health/health.js';
import { createTransport, Messaging } from '../messaging/messaging.js';
import type { EventTransport } from '../messaging/transport.js';
import { createLogger, PinoNestLogger, type Logger } from '../telemetry/logger.js';
import { AccessTokenVerifier, accessTokenSettings } from '../workload/access-token.js';
import { loadWorkloadSigner, loadWorkloadVerifier } from '../workload/workload-identity.js';
import { PlatformModule } from './platform.module.js';
import type { DataServiceDefinition, ServiceDefinition } from './service-definition.js';

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** All-in-one: one transport shared by every service of the process. */
  transport?: EventTransport;
  mode?: 'all-in-one' | 'distributed';
  logger?: Logger;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly app: NestFastifyApplication;
  readonly config: BaseConfig;
  readonly logger: Logger;
  readonly dataSource?: DataSource;
  readonly messaging?: Messaging;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Boots one service: validated config, database and migrations, event transport with outbox
 * relay and inbox consumers, workload identity, then the HTTP app. Throws (and cleans up what it
 * opened) if any step fails, so a caller can exit non-zero with the reason.
 */
export async function startService(
  definition: ServiceDefinition,
  options: StartOptions = {},
): Promise<RunningService> {
  const env = options.env ?? process.env;
  const config = loadConfig(definition.name, definition.configSchema, env);
  const logger = options.logger ?? createLogger(definition.name, config.LOG_LEVEL);
  const cleanups: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  // Once only, newest first, however often it is called (SIGTERM then SIGINT).
  const cleanup = () =>
    (stopping ??= (async () => {
      for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
    })());
  try {
    const signer = await loadWorkloadSigner(definition.name, config.WORKLOAD_KEY_FILE);
    const verifier = await loadWorkloadVerifier(definition.name, config.WORKLOAD_TRUST_DIR);
    let readiness: ReadinessCheck[];
    let data: { dataSource: DataSource; messaging: Messaging } | undefined;
    if (definition.kind === 'data') {
      data = await startData(definition, config as DataServiceConfig, logger, options, cleanups);
      const { dataSource, messaging } = data;
      readiness = [
        {
          name: 'database',
          check: async () => (await dataSource.query<unknown[]>('SELECT 1')).length === 1,
        },
        { name: 'events', check: () => messaging.transport.isReady() },
      ];
    } else {
      readiness = definition.readiness(config);
    }

    @Module({
      imports: [
        PlatformModule.forRoot({
          config,
          logger,
          signer,
          verifier,
          accessTokens: new AccessTokenVerifier(accessTokenSettings(definition.name, config)),
          readiness,
          openApiPath: definition.openApiPath,
          ...(definition.serviceInfoPath ? { serviceInfoPath: definition.serviceInfoPath } : {}),
          openApi: {
            title: `Rampart ${definition.name}`,
            version: definition.version,
            description: definition.description,
            routes: definition.routes,
          },
          ...(data
            ? {
                dataSource: data.dataSource,
                outbox: data.messaging.outbox,
                transport: data.messaging.transport,
              }
            : {}),
        }),
        definition.module,
      ],
    })
    class ServiceRootModule {}

    const adapter = new FastifyAdapter({
      bodyLimit: MAX_BODY_BYTES,
      // Data services sit behind the gateway, which replaces X-Forwarded-For with the peer it saw:
      // trust exactly that one hop for `request.ip`. The gateway itself trusts nobody.
      trustProxy: definition.kind === 'data' ? (_address: string, hop: number) => hop === 0 : false,
      // Keep a caller's request id when it is well-formed, so one id follows a request through the edge.
      genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
        const incoming = request.headers['x-request-id'];
        return typeof incoming === 'string' && /^[\w.-]{8,128}$/.test(incoming)
          ? incoming
          : randomUUID();
      },
      // The router refuses a malformed percent-encoding (400) or an over-long path parameter
      // (414) before any route, hook or Nest filter runs; without this the caller would get
      // Fastify's own JSON instead of a problem document.
      frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
        replyWithProblem(request, reply, error, logger),
    });
    // Every route as it is registered (Nest's, the platform's, an edge's own), so a known path
    // asked with another method is answered 405 with `Allow` rather than 404.
    const allowedMethods = new AllowedMethods();
    adapter
      .getInstance()
      .addHook('onRoute', (route) => allowedMethods.record(route.method, route.url));
    const app = await NestFactory.create<NestFastifyApplication>(ServiceRootModule, adapter, {
      logger: new PinoNestLogger(logger.child({ component: 'nest' })),
      abortOnError: false,
    });
    app.useGlobalFilters(new ProblemDetailsFilter(logger, allowedMethods));
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onSend', async (request, reply) => {
        void reply.header('x-request-id', request.id);
      });
    if (definition.kind === 'edge' && definition.configureHttp) {
      await definition.configureHttp(app, config, logger);
    }
    // Before listening: `listen` initialises the modules first, and if it then fails (the port is
    // taken) their shutdown hooks must still run, or what they started (timers, sessions) leaks.
    cleanups.push(() => app.close());
    await app.listen(config.PORT, config.HOST);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    const url = `http://${config.HOST}:${port}`;

    if (data && definition.kind === 'data') {
      data.messaging.startRelay();
      await announceStart(definition, data, options, config as DataServiceConfig);
    }
    logger.info({ url }, `${definition.name} listening`);
    return {
      name: definition.name,
      url,
      app,
      config,
      logger,
      ...(data ?? {}),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function startData(
  definition: DataServiceDefinition,
  config: DataServiceConfig,
  logger: Logger,
  options: StartOptions,
  cleanups: (() => Promise<void>)[],
): Promise<{ dataSource: DataSource; messaging: Messaging }> {
  if (!options.transport) assertDataServiceDeployable(definition.name, config);
  const dataSource = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    migrations: definition.migrations,
    entities: definition.entities ?? [],
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: `rampart-${definition.name}`,
  });
  await openAndMigrate(dataSource);
  cleanups.push(() => dataSource.destroy());
  let transport = options.transport;
  if (!transport) {
    const own = createTransport(config, definition.name, logger);
    await own.start();
    cleanups.push(() => own.stop());
    transport = own;
  }
  const messaging = new Messaging({
    service: definition.name,
    schema: config.DATABASE_SCHEMA,
    tenant: config.RAMPART_TENANT,
    databaseUrl: config.DATABASE_URL,
    dataSource,
    transport,
    logger,
    produces: [definition.startedEvent, ...definition.produces],
    consumers: definition.consumers,
  });
  await messaging.start();
  // Registered before the data source's cleanup runs: the relay stops first.
  cleanups.push(() => messaging.stop());
  return { dataSource, messaging };
}

async function announceStart(
  definition: DataServiceDefinition,
  data: { dataSource: DataSource; messaging: Messaging },
  options: StartOptions,
  config: DataServiceConfig,
): Promise<void> {
  await data.dataSource.transaction((transaction) =>
    data.messaging.outbox.write(transaction, definition.startedEvent, {
      subject: definition.name,
      data: {
        service: definition.name,
        instanceId: randomUUID(),
        version: definition.version,
        mode: options.mode ?? 'distributed',
        transport: data.messaging.transport.kind,
      },
      tenant: config.RAMPART_TENANT,
    }),
  );
}
