import {
  CompressionTypes,
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type Producer,
} from 'kafkajs';
import { deadLetterTopic } from '@rampart/contracts';
import type { Logger } from '../../telemetry/logger.js';
import type {
  EventTransport,
  IncomingMessage,
  OutgoingMessage,
  Subscription,
} from '../transport.js';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Partitions for topics this transport creates (development and tests). */
  partitions?: number;
  replicationFactor?: number;
  /** Partitions of one consumer handled at the same time; order holds within each. */
  partitionsConsumedConcurrently?: number;
  /** How long the group waits for a silent consumer before reassigning its partitions. */
  sessionTimeoutMs?: number;
  /** The most one fetch returns per partition (kafkajs default 1 MiB). */
  maxBytesPerPartition?: number;
  /** The most one fetch returns over all partitions (kafkajs default 10 MiB). */
  maxBytes?: number;
  /**
   * Most bytes (keys, values, headers) sent in one produce request (default 512 KiB). The broker
   * refuses a partition's record batch above its `message.max.bytes` (1 MiB by default), and a
   * refused batch would be retried, and refused, for ever.
   */
  maxRequestBytes?: number;
}

/**
 * What one consumer group of this transport holds at the moment: messages handed to the
 * subscription and not yet settled. kafkajs fetches again only once every batch of the previous
 * fetch is settled, so these stay within one fetch (`maxBytes`), however slow the handler.
 */
export interface ConsumerLoad {
  /** Fetch responses received from the broker since the consumer started. */
  fetches: number;
  inFlightMessages: number;
  inFlightBytes: number;
  peakInFlightMessages: number;
  peakInFlightBytes: number;
}

const DEFAULT_MAX_REQUEST_BYTES = 512 * 1024;

function sizeOf(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return bytes;
}

/** Consecutive runs of `messages` of at most `limit` bytes each (a larger message alone). */
function chunksOf(messages: OutgoingMessage[], limit: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let chunk: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (chunk.length > 0 && bytes + size > limit) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  return result;
}

/**
 * Kafka through kafkajs: an idempotent producer (acks=all, one request in flight, so retries
 * never reorder or duplicate within a partition) and consumers that commit an offset only after
 * the batch up to it is settled.
 */
const TOPIC_READY_TIMEOUT_MS = 30_000;
const MAX_RETRY_TIME_MS = 5_000;

function isKafkaError(error: unknown, type: string): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { type?: unknown }).type === type ||
      // createTopics wraps per-topic failures.
      ((error as { errors?: unknown }).errors instanceof Array &&
        (error as { errors: { type?: unknown }[] }).errors.every((inner) => inner.type === type)))
  );
}

export class KafkaTransport implements EventTransport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly consumers: Consumer[] = [];
  private readonly loads = new Map<string, ConsumerLoad>();
  private producerConnected = false;

  constructor(
    private readonly options: KafkaTransportOptions,
    private readonly logger: Logger,
  ) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }) => {
          const { message, ...extra } = log;
          if (level <= logLevel.ERROR) this.logger.error({ kafka: extra }, message);
          else this.logger.warn({ kafka: extra }, message);
        },
      // Retries back off exponentially; capped, so a broker back from a restart is found within
      // seconds instead of after kafkajs's default 30 s wait.
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: MAX_RETRY_TIME_MS },
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    this.admin = this.kafka.admin();
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    this.producerConnected = true;
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    const wanted = [...new Set(topics.flatMap((topic) => [topic, deadLetterTopic(topic)]))];
    const existing = new Set(await this.admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    // Another service of the platform may create the same topics at the same moment: both
    // outcomes are fine, and kafkajs reports the loser's topics as already existing.
    await this.admin
      .createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.options.partitions ?? 3,
          replicationFactor: this.options.replicationFactor ?? 1,
        })),
      })
      .catch((error: unknown) => {
        if (!isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
      });
    await this.waitForLeaders(missing);
  }

  /**
   * A KRaft broker may answer "unknown topic" for a moment after creating one (kafkajs's own
   * wait retries only "leader not available"), so wait until every partition has a leader.
   */
  private async waitForLeaders(topics: string[]): Promise<void> {
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (;;) {
      try {
        const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics });
        const ready = metadata.every(
          (topic) =>
            topic.partitions.length > 0 &&
            topic.partitions.every((partition) => partition.leader >= 0),
        );
        if (ready) return;
      } catch (error) {
        if (
          !isKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION') &&
          !isKafkaError(error, 'LEADER_NOT_AVAILABLE')
        )
          throw error;
      }
      if (Date.now() > deadline)
        throw new Error(`Kafka topics without leaders: ${topics.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    // One request after the other: with one request in flight, the outbox order holds across them.
    for (const chunk of chunksOf(
      messages,
      this.options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    )) {
      await this.send(chunk);
    }
  }

  private async send(messages: OutgoingMessage[]): Promise<void> {
    // Grouped by topic in first-seen order; within a topic the outbox order is kept.
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const message of messages) {
      const list = byTopic.get(message.topic) ?? [];
      list.push(message);
      byTopic.set(message.topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((message) => ({
          key: message.key,
          value: message.value,
          headers: message.headers,
        })),
      })),
    });
  }

  async subscribe(subscription: Subscription): Promise<void> {
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = this.kafka.consumer({
      groupId: subscription.group,
      allowAutoTopicCreation: false,
      sessionTimeout,
      // Kafka's advice: a third of the session at most, so two missed beats do not end it.
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 1_048_576,
      maxBytes: this.options.maxBytes ?? 10 * 1_048_576,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: MAX_RETRY_TIME_MS },
    });
    this.consumers.push(consumer);
    const load: ConsumerLoad = {
      fetches: 0,
      inFlightMessages: 0,
      inFlightBytes: 0,
      peakInFlightMessages: 0,
      peakInFlightBytes: 0,
    };
    this.loads.set(subscription.group, load);
    consumer.on(consumer.events.FETCH, () => {
      load.fetches += 1;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...subscription.topics], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0 || payload.isStale()) return;
        const messages: IncomingMessage[] = batch.messages.map((message) => ({
          topic: batch.topic,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: headersOf(message.headers),
          position: `${batch.partition}/${message.offset}`,
        }));
        const bytes = batch.messages.reduce(
          (sum, message) => sum + (message.value?.length ?? 0) + (message.key?.length ?? 0),
          0,
        );
        load.inFlightMessages += messages.length;
        load.inFlightBytes += bytes;
        load.peakInFlightMessages = Math.max(load.peakInFlightMessages, load.inFlightMessages);
        load.peakInFlightBytes = Math.max(load.peakInFlightBytes, load.inFlightBytes);
        try {
          // Throwing here leaves the offset where it was: kafkajs fetches the batch again.
          await subscription.handleBatch(messages, () => payload.heartbeat());
        } finally {
          load.inFlightMessages -= messages.length;
          load.inFlightBytes -= bytes;
        }
        payload.resolveOffset(batch.lastOffset());
        await payload.commitOffsetsIfNecessary();
      },
    });
  }

  /** The consumer group's current and peak load (health checks, tests); undefined if unknown. */
  consumerLoad(group: string): Readonly<ConsumerLoad> | undefined {
    const load = this.loads.get(group);
    return load ? { ...load } : undefined;
  }

  async isReady(): Promise<boolean> {
    if (!this.producerConnected) return false;
    try {
      const cluster = await this.admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.consumers.map((consumer) => consumer.disconnect()));
    this.consumers.length = 0;
    this.producerConnected = false;
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}
