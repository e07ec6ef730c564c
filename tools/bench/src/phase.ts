import { summarize, type LatencySummary } from './stats.js';

/**
 * One measured stretch of the run: the events with sequence numbers in
 * [firstSequence, firstSequence + size), and three moments of each (epoch ms, NaN until seen):
 * written into the outbox, published to Kafka by the relay, applied by the consumer.
 */
export class Phase {
  private readonly sentAt: Float64Array;
  private readonly publishedAt: Float64Array;
  private readonly appliedAt: Float64Array;
  published = 0;
  applied = 0;
  /** Just before the first outbox write. */
  startedAt = 0;
  /** When the last producer transaction committed. */
  writtenAt = 0;
  /** When the relay's publish of the phase's last event was acknowledged (acks=all). */
  lastPublishedAt = 0;
  /** When the consumer transaction applying the phase's last event committed. */
  lastAppliedAt = 0;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    readonly name: string,
    readonly firstSequence: number,
    readonly size: number,
  ) {
    this.sentAt = new Float64Array(size).fill(NaN);
    this.publishedAt = new Float64Array(size).fill(NaN);
    this.appliedAt = new Float64Array(size).fill(NaN);
    if (size === 0) this.resolveDone();
  }

  contains(sequence: number): boolean {
    return sequence >= this.firstSequence && sequence < this.firstSequence + this.size;
  }

  start(at: number): void {
    this.startedAt = at;
  }

  sent(sequence: number, at: number): void {
    this.sentAt[sequence - this.firstSequence] = at;
  }

  wasPublished(sequence: number, at: number): void {
    const index = sequence - this.firstSequence;
    // A batch published again (relay retry) keeps its first publication time.
    if (!Number.isNaN(this.publishedAt[index]!)) return;
    this.publishedAt[index] = at;
    this.published += 1;
    if (this.published === this.size) this.lastPublishedAt = at;
  }

  wasApplied(sequence: number, at: number): void {
    const index = sequence - this.firstSequence;
    // The inbox makes a redelivered event a no-op, so this is a guard, not a case.
    if (!Number.isNaN(this.appliedAt[index]!)) return;
    this.appliedAt[index] = at;
    this.applied += 1;
    if (this.applied === this.size) {
      this.lastAppliedAt = at;
      this.resolveDone();
    }
  }

  /** End to end (written -> applied), and its two legs: outbox + relay, then Kafka + consumer. */
  latencies(): { endToEnd: LatencySummary; toKafka: LatencySummary; fromKafka: LatencySummary } {
    const difference = (to: Float64Array, from: Float64Array) =>
      to.map((value, index) => value - from[index]!);
    return {
      endToEnd: summarize(difference(this.appliedAt, this.sentAt)),
      toKafka: summarize(difference(this.publishedAt, this.sentAt)),
      fromKafka: summarize(difference(this.appliedAt, this.publishedAt)),
    };
  }

  /** Settles when every event is applied, or rejects after `timeoutMs` with how far it got. */
  async settled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `phase ${this.name}: after ${timeoutMs / 1_000} s, ${this.published} of ${this.size} events ` +
                `published and ${this.applied} applied (producer ${this.writtenAt ? 'done' : 'still writing'})`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
