import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  EVENT_TRANSPORT,
  LOGGER,
  SERVICE_CONFIG,
  type EventTransport,
  type Logger,
} from '@rampart/platform';
import { DataSource } from 'typeorm';
import { logOrigin } from '../checkpoints/checkpoint.config.js';
import type { AuditConfig } from '../config/audit.config.js';
import { AuditStreamPublisher } from './audit-stream.js';

/** Records per message batch; about 2 MB, sent as requests of at most 512 KiB. */
const STREAM_BATCH = 1_000;

/** Runs the security teams' stream in the service (`audit-stream.ts`). */
@Injectable()
export class AuditStream implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly publisher: AuditStreamPublisher;

  constructor(
    @Inject(SERVICE_CONFIG) config: AuditConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(EVENT_TRANSPORT) transport: EventTransport,
    dataSource: DataSource,
  ) {
    this.publisher = new AuditStreamPublisher(dataSource, transport, {
      origin: logOrigin(config),
      batchSize: STREAM_BATCH,
      logger,
    });
  }

  onApplicationBootstrap(): void {
    this.publisher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.stop();
  }
}

@Module({ providers: [AuditStream] })
export class AuditStreamModule {}
