import type {
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import type { OutgoingMessage } from '@rampart/platform';
import { now } from './clock.js';
import type { Phase } from './phase.js';

/**
 * Stamps events as applied when the consumer's batch transaction COMMITs, not when the handler
 * runs: only then is the effect durable and visible, and the handler of the first event in a
 * batch runs well before the batch commits. It is a TypeORM subscriber on the service's data
 * source, so it observes the InboxConsumer's own transactions without changes to the platform.
 * Everything stays in memory; the database sees only what the handler itself writes.
 */
export class LatencyRecorder implements EntitySubscriberInterface {
  private readonly phases: Phase[] = [];
  /** Sequence numbers handled in each still-open consumer transaction. */
  private readonly pending = new WeakMap<QueryRunner, number[]>();

  track(phase: Phase): void {
    this.phases.push(phase);
  }

  private phaseOf(sequence: number): Phase | undefined {
    // Searched from the newest: nearly every lookup is for the phase in progress.
    for (let i = this.phases.length - 1; i >= 0; i--) {
      if (this.phases[i]!.contains(sequence)) return this.phases[i];
    }
    return undefined;
  }

  /** Called by the handler, inside the consumer's transaction. */
  handled(transaction: EntityManager, sequence: number): void {
    const runner = transaction.queryRunner;
    if (!runner) throw new Error('the inbox handler ran outside a transaction');
    let list = this.pending.get(runner);
    if (!list) {
      list = [];
      this.pending.set(runner, list);
    }
    list.push(sequence);
  }

  /** Called after each publish of the relay that the transport acknowledged. */
  published(messages: readonly OutgoingMessage[]): void {
    const at = now();
    for (const message of messages) {
      const sequence = sequenceOf(message.value);
      if (sequence !== undefined) this.phaseOf(sequence)?.wasPublished(sequence, at);
    }
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const list = this.pending.get(event.queryRunner);
    if (!list) return;
    this.pending.delete(event.queryRunner);
    const at = now();
    for (const sequence of list) this.phaseOf(sequence)?.wasApplied(sequence, at);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    // The batch will be delivered again and handled anew; what it handled so far never happened.
    this.pending.delete(event.queryRunner);
  }
}

const SEQUENCE = '"sequence":';

/**
 * The probe event's sequence number, read straight from the JSON text: parsing every envelope
 * again on the relay's path would cost the relay time the benchmark is measuring.
 */
function sequenceOf(json: string): number | undefined {
  const at = json.indexOf(SEQUENCE);
  if (at < 0) return undefined;
  const value = Number.parseInt(json.slice(at + SEQUENCE.length, at + SEQUENCE.length + 16), 10);
  return Number.isNaN(value) ? undefined : value;
}
