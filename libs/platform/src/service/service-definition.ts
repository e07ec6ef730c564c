import type { DynamicModule, Type } from '@nestjs/common';
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
}

/** A service that owns data and exchanges events. */
export interface DataServiceDefinition<C extends DataServiceConfig = DataServiceConfig>
  extends CommonDefinition {
  kind: 'data';
  configSchema: z.ZodType<C>;
  migrations: MigrationClass[];
  entities?: Function[];
  /** Emitted once per start through the outbox (OCSF application lifecycle). */
  startedEvent: EventDefinition;
  produces: readonly EventDefinition[];
  consumers: readonly ConsumerDefinition<readonly EventDefinition[]>[];
}

/** A stateless service (the gateway): no database, no events. */
export interface EdgeServiceDefinition<C extends BaseConfig = BaseConfig> extends CommonDefinition {
  kind: 'edge';
  configSchema: z.ZodType<C>;
  /** Extra readiness checks, e.g. the gateway's upstreams. */
  readiness: (config: C) => ReadinessCheck[];
}

export type ServiceDefinition = DataServiceDefinition | EdgeServiceDefinition;
