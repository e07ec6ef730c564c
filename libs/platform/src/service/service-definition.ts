import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '../telemetry/logger.js';
import type { z } from 'zod';
import type { EventDefinition, ServiceName } from '@rampart/contracts';
import type { BaseConfig, DataServiceConfig } from '../config/config.js';
import type { MigrationClass } from '../database/data-source.js';
import type { ReadinessCheck } from '../health/health.js';
import type { ConsumerDefinition } from '../messaging/inbox-consumer.js';
import type { OpenApiRoute } from '../openapi/openapi.js';

interface CommonDefinition {
  name: ServiceName;
  version: string;
  description: string;
  /** Where the OpenAPI document is served (through the gateway too). */
  openApiPath: string;
  routes: OpenApiRoute[];
  /** The service's root feature module. */
  module: Type<unknown> | DynamicModule;
  /** Workload-only route that reports the service and its caller (data services). */
  serviceInfoPath?: string;
}

/** A service that owns data and exchanges events. */
export interface DataServiceDefinition<
  C extends DataServiceConfig = DataServiceConfig,
> extends CommonDefinition {
  kind: 'data';
  configSchema: z.ZodType<C>;
  migrations: MigrationClass[];
  entities?: (new (...args: never[]) => unknown)[];
  /** Emitted once per start through the outbox (OCSF application lifecycle). */
  startedEvent: EventDefinition;
  produces: readonly EventDefinition[];
  consumers: readonly ConsumerDefinition[];
}

/** A stateless service (the gateway): no database, no events. */
export interface EdgeServiceDefinition<C extends BaseConfig = BaseConfig> extends CommonDefinition {
  kind: 'edge';
  configSchema: z.ZodType<C>;
  /** Extra readiness checks, e.g. the gateway's upstreams. */
  readiness: (config: C) => ReadinessCheck[];
  /** Registers edge behaviour (proxying) on the HTTP server before it listens. */
  configureHttp?: (app: NestFastifyApplication, config: C, logger: Logger) => Promise<void>;
}

export type ServiceDefinition = DataServiceDefinition | EdgeServiceDefinition;

/** Checks an edge service against its own config type, then erases that type for the runtime. */
export function defineEdgeService<C extends BaseConfig>(
  definition: EdgeServiceDefinition<C>,
): EdgeServiceDefinition {
  return definition as unknown as EdgeServiceDefinition;
}
