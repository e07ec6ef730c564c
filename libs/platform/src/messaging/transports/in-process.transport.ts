import type { EventTransport, OutgoingMessage, Subscription } from '../transport.js';

/**
 * The all-in-one transport: delivery is a direct call into every subscribed consumer, and
 * `publish` resolves only after each of them has settled the messages in its own database. The
 * relay marks outbox rows published only then, so the guarantees match Kafka's: at least once,
 * in order per key, deduplicated by each consumer's inbox, and nothing lost if the process dies
 * (the rows are still unpublished and are delivered again at the next start).
 *
 * Subscribers must be registered before `start()`: publishing waits until then, so no event is
 * delivered before every consumer of the process exists.
 */
export class InProcessTransport implements EventTransport {
  readonly kind = 'in-process' as const;
  private readonly subscriptions: Subscription[] = [];
  private started = false;
  private stopped = false;
  private release!: () => void;
  private abandon!: (reason: Error) => void;
  private readonly ready = new Promise<void>((resolve, reject) => {
    this.release = resolve;
    this.abandon = reject;
  });

  start(): Promise<void> {
    this.started = true;
    this.release();
    return Promise.resolve();
  }

  ensureTopics(): Promise<void> {
    // Topics are implicit: a message goes to whichever subscriptions name its topic.
    return Promise.resolve();
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    await this.ready;
    if (this.stopped) throw new Error('in-process transport stopped');
    await Promise.all(
      this.subscriptions.map(async (subscription) => {
        const wanted = messages.filter((message) => subscription.topics.includes(message.topic));
        if (wanted.length === 0) return;
        await subscription.handleBatch(
          wanted.map((message, index) => ({
            topic: message.topic,
            key: message.key,
            value: message.value,
            headers: message.headers,
            position: `in-process/${index}`,
          })),
          () => Promise.resolve(),
        );
      }),
    );
  }

  subscribe(subscription: Subscription): Promise<void> {
    if (this.subscriptions.some((existing) => existing.group === subscription.group)) {
      return Promise.reject(
        new Error(`consumer group ${subscription.group} is already subscribed`),
      );
    }
    this.subscriptions.push(subscription);
    return Promise.resolve();
  }

  isReady(): Promise<boolean> {
    return Promise.resolve(this.started);
  }

  /** Publishes still waiting for `start()` fail, so a relay stopping early is not stuck. */
  stop(): Promise<void> {
    this.started = false;
    this.stopped = true;
    this.ready.catch(() => undefined);
    this.abandon(new Error('in-process transport stopped before it started'));
    return Promise.resolve();
  }
}
