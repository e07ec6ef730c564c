/** A message on its way to the transport, as stored in the outbox. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  /** The CloudEvent, JSON-encoded. */
  value: string;
  headers: Record<string, string>;
}

/** A message as a consumer receives it; `value` may be anything, valid or not. */
export interface IncomingMessage {
  topic: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** Transport position, for logs and dead letters ("partition/offset" on Kafka). */
  position: string;
}

export interface Subscription {
  /** Consumer group: every group receives every message of its topics. */
  readonly group: string;
  readonly topics: readonly string[];
  /**
   * Settles a batch of one partition, in order. Resolves only when every message is handled or
   * dead-lettered durably; rejecting makes the transport deliver the batch again.
   */
  handleBatch(messages: IncomingMessage[], heartbeat: () => Promise<void>): Promise<void>;
}

export interface EventTransport {
  readonly kind: 'kafka' | 'in-process';
  start(): Promise<void>;
  /** Resolves once every message is durably accepted by the transport, in order per topic and key. */
  publish(messages: OutgoingMessage[]): Promise<void>;
  /** Creates the topics (and their dead-letter topics) where the transport needs that. */
  ensureTopics(topics: readonly string[]): Promise<void>;
  subscribe(subscription: Subscription): Promise<void>;
  isReady(): Promise<boolean>;
  stop(): Promise<void>;
}
