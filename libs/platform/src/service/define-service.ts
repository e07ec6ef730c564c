import type { DynamicModule, Type } from '@nestjs/common';
import { z } from 'zod';
import { SERVICE_ROUTES, type EventDefinition, type ServiceRoute } from '@rampart/contracts';
import { dataServiceConfigSchema, type DataServiceConfig } from '../config/config.js';
import type { MigrationClass } from '../database/data-source.js';
import { CreateMessagingTables1764000000000 } from '../messaging/messaging.migration.js';
import type { ConsumerDefinition } from '../messaging/inbox-consumer.js';
import type { OpenApiRoute } from '../openapi/openapi.js';
import type { DataServiceDefinition } from './service-definition.js';

export interface DataServiceSpec<C extends DataServiceConfig> {
  name: ServiceRoute['service'];
  version: string;
  description: string;
  module: Type<unknown> | DynamicModule;
  startedEvent: EventDefinition;
  configSchema?: z.ZodType<C>;
  /** The service's own migrations; the messaging tables come first automatically. */
  migrations?: MigrationClass[];
  entities?: (new (...args: never[]) => unknown)[];
  produces?: readonly EventDefinition[];
  consumers?: readonly ConsumerDefinition[];
  routes?: OpenApiRoute[];
}

const serviceInfoSchema = z.object({
  service: z.string(),
  version: z.string(),
  caller: z.string().describe('The calling workload'),
});

/**
 * A data service with the platform's conventions filled in: its routes and OpenAPI path from the
 * service map, the messaging migration, and the documented platform routes.
 */
export function defineDataService<C extends DataServiceConfig = DataServiceConfig>(
  spec: DataServiceSpec<C>,
): DataServiceDefinition<C> {
  const route = SERVICE_ROUTES.find((candidate) => candidate.service === spec.name);
  if (!route) throw new Error(`${spec.name} is not in the service map`);
  const prefix =
    route.prefixes.find((candidate) => route.openApiPath.startsWith(`${candidate}/`)) ??
    route.prefixes[0];
  const serviceInfoPath = `${prefix}/v1/service-info`;
  return {
    kind: 'data',
    name: spec.name,
    version: spec.version,
    description: spec.description,
    module: spec.module,
    configSchema: spec.configSchema ?? (dataServiceConfigSchema as unknown as z.ZodType<C>),
    migrations: [CreateMessagingTables1764000000000, ...(spec.migrations ?? [])],
    entities: spec.entities ?? [],
    startedEvent: spec.startedEvent,
    produces: spec.produces ?? [],
    consumers: spec.consumers ?? [],
    openApiPath: route.openApiPath,
    serviceInfoPath,
    routes: [
      {
        method: 'get',
        path: route.openApiPath,
        operationId: 'getOpenApiDocument',
        summary: `This document: the OpenAPI 3.1 description of ${spec.name}.`,
        security: 'public',
        responses: { 200: { description: 'The OpenAPI document.' } },
      },
      {
        method: 'get',
        path: serviceInfoPath,
        operationId: 'getServiceInfo',
        summary: 'The service and the calling workload (platform services only).',
        security: 'workload',
        responses: { 200: { description: 'Service identity.', schema: serviceInfoSchema } },
      },
      ...(spec.routes ?? []),
    ],
  };
}
