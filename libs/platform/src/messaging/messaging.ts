import type { DataSource } from 'typeorm';
import type { EventDefinition } from '@rampart/contracts';
import type { Logger } from '../telemetry/logger.js';
import { InboxConsumer, type ConsumerDefinition } from './inbox-consumer.js';
import { Outbox } from './outbox.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import type { EventTransport } from './transport.js';
import { InProcessTransport } from './transports/in-process.transport.js';
import { KafkaTransport } from './transports/kafka.transport.js';

/** Kafka when brokers are configured, otherwise the in-process transport. */
export function createTransport(
  config: {
    KAFKA_BROKERS?: string | undefined;
    KAFKA_CLIENT_ID?: string | undefined;
    KAFKA_TOPIC_PARTITIONS?: number;
    KAFKA_TOPIC_REPLICATION_FACTOR?: number;
    KAFKA_CONSUMER_SESSION_TIMEOUT_MS?: number;
    KAFKA_CONSUMER_MAX_BYTES_PER_PARTITION?: number;
    KAFKA_CONSUMER_MAX_BYTES?: number;
  },
  service: string,
  logger: Logger,
): EventTransport {
  if (config.KAFKA_BROKERS) {
    return new KafkaTransport(
      {
        brokers: config.KAFKA_BROKERS.split(','),
        clientId: config.KAFKA_CLIENT_ID ?? `rampart-${service}`,
        partitions: config.KAFKA_TOPIC_PARTITIONS ?? 3,
        replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR ?? 1,
        ...(config.KAFKA_CONSUMER_SESSION_TIMEOUT_MS === undefined
          ? {}
          : { sessionTimeoutMs: config.KAFKA_CONSUMER_SESSION_TIMEOUT_MS }),
        ...(config.KAFKA_CONSUMER_MAX_BYTES_PER_PARTITION === undefined
          ? {}
          : { maxBytesPerPartition: config.KAFKA_CONSUMER_MAX_BYTES_PER_PARTITION }),
        ...(config.KAFKA_CONSUMER_MAX_BYTES === undefined
          ? {}
          : { maxBytes: config.KAFKA_CONSUMER_MAX_BYTES }),
      },
      logger,
    );
  }
  return new InProcessTransport();
}

export interface MessagingOptions {
  service: string;
  schema: string;
  tenant: string;
  databaseUrl: string;
  dataSource: DataSource;
  transport: EventTransport;
  logger: Logger;
  /** Topics this service produces to (created with their dead-letter topics where needed). */
  produces: readonly EventDefinition[];
  consumers: readonly ConsumerDefinition[];
  relay?: Partial<
    Pick<OutboxRelayOptions, 'batchSize' | 'pollIntervalMs' | 'retentionMs' | 'inboxRetentionMs'>
  >;
}

/** One service's event plumbing: its outbox, its relay and its inbox consumers on a transport. */
export class Messaging {
  readonly outbox: Outbox;
  readonly relay: OutboxRelay;

  constructor(private readonly options: MessagingOptions) {
    this.outbox = new Outbox(options.service, options.schema, options.tenant);
    this.relay = new OutboxRelay(options.dataSource, options.transport, options.logger, {
      schema: options.schema,
      databaseUrl: options.databaseUrl,
      ...options.relay,
    });
  }

  get transport(): EventTransport {
    return this.options.transport;
  }

  /** Provisions topics and subscribes the consumers; the relay starts with `startRelay`. */
  async start(): Promise<void> {
    const topics = [
      ...this.options.produces.map((event) => event.topic.name),
      ...this.options.consumers.flatMap((consumer) =>
        consumer.handlers.map(({ definition }) => definition.topic.name),
      ),
    ];
    await this.options.transport.ensureTopics([...new Set(topics)]);
    for (const definition of this.options.consumers) {
      await this.options.transport.subscribe(
        new InboxConsumer(
          definition,
          this.options.dataSource,
          this.options.schema,
          this.options.logger,
        ),
      );
    }
  }

  startRelay(): void {
    this.relay.start();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
  }
}
