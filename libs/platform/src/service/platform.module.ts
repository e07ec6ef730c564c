import { Controller, Get, Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, type BaseConfig } from '../config/config.js';
import { HealthController, READINESS_CHECKS, type ReadinessCheck } from '../health/health.js';
import { Outbox } from '../messaging/outbox.js';
import type { EventTransport } from '../messaging/transport.js';
import { buildOpenApiDocument, type OpenApiSpec } from '../openapi/openapi.js';
import type { Logger } from '../telemetry/logger.js';
import { Public } from '../workload/access.decorators.js';
import { AccessGuard } from '../workload/access.guard.js';
import { AccessTokenVerifier } from '../workload/access-token.js';
import { WorkloadSigner, WorkloadVerifier } from '../workload/workload-identity.js';
import { serviceInfoController } from './service-info.controller.js';

export const LOGGER = Symbol('rampart.logger');
/**
 * The service's event transport, for a publisher that does not go through the outbox because its
 * own table is already ordered and durable (the audit log's stream, published from the chain).
 */
export const EVENT_TRANSPORT = Symbol('rampart.event-transport');

export interface PlatformModuleOptions {
  config: BaseConfig;
  logger: Logger;
  signer: WorkloadSigner;
  verifier: WorkloadVerifier;
  accessTokens: AccessTokenVerifier;
  readiness: ReadinessCheck[];
  openApiPath: string;
  openApi: OpenApiSpec;
  /** Where workload callers read this service's identity (absent for the gateway). */
  serviceInfoPath?: string;
  dataSource?: DataSource;
  outbox?: Outbox;
  transport?: EventTransport;
}

function openApiController(path: string, document: Record<string, unknown>): Type {
  @Controller()
  class OpenApiController {
    @Public()
    @Get(path.replace(/^\//, ''))
    document(): Record<string, unknown> {
      return document;
    }
  }
  return OpenApiController;
}

type Type = new (...args: never[]) => unknown;

/**
 * What every service gets from the platform, as injectable providers: validated config, logger,
 * workload identity, database and outbox (for data services), health and the OpenAPI document,
 * and the deny-by-default access guard on every route.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: options.config },
      { provide: LOGGER, useValue: options.logger },
      { provide: WorkloadSigner, useValue: options.signer },
      { provide: WorkloadVerifier, useValue: options.verifier },
      { provide: AccessTokenVerifier, useValue: options.accessTokens },
      { provide: READINESS_CHECKS, useValue: options.readiness },
      { provide: APP_GUARD, useClass: AccessGuard },
    ];
    if (options.dataSource) providers.push({ provide: DataSource, useValue: options.dataSource });
    if (options.outbox) providers.push({ provide: Outbox, useValue: options.outbox });
    if (options.transport)
      providers.push({ provide: EVENT_TRANSPORT, useValue: options.transport });
    return {
      module: PlatformModule,
      controllers: [
        HealthController,
        openApiController(options.openApiPath, buildOpenApiDocument(options.openApi)),
        ...(options.serviceInfoPath
          ? [
              serviceInfoController(options.serviceInfoPath, {
                service: options.signer.service,
                version: options.openApi.version,
              }),
            ]
          : []),
      ],
      providers,
      exports: [
        SERVICE_CONFIG,
        LOGGER,
        WorkloadSigner,
        WorkloadVerifier,
        READINESS_CHECKS,
        ...(options.dataSource ? [DataSource] : []),
        ...(options.outbox ? [Outbox] : []),
        ...(options.transport ? [EVENT_TRANSPORT] : []),
      ],
    };
  }
}
