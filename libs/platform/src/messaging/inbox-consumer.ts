import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import type { DataSource, EntityManager } from 'typeorm';
import {
  deadLetterTopic,
  validateEvent,
  type CloudEventEnvelope,
  type EventDefinition,
  type EventOf,
} from '@rampart/contracts';
import type { Logger } from '../telemetry/logger.js';
import { contextFromTraceHeaders } from '../telemetry/trace-context.js';
import { outboxChannel } from './outbox.js';
import type { IncomingMessage, Subscription } from './transport.js';

/** Handles one event inside the transaction that also records it in the inbox. */
export type EventHandler<D extends EventDefinition> = (
  event: EventOf<D>,
  transaction: EntityManager,
) => Promise<void>;

/** One event type a consumer accepts, with its handler: `on(UserCreated, async (event, tx) => ...)`. */
export interface EventSubscription {
  readonly definition: EventDefinition;
  readonly handler: EventHandler<EventDefinition>;
}

export function on<D extends EventDefinition>(
  definition: D,
  handler: EventHandler<D>,
): EventSubscription {
  return { definition, handler: handler as unknown as EventHandler<EventDefinition> };
}

export interface ConsumerDefinition {
  /** Consumer group name, unique per service (e.g. "audit.ingest"). */
  name: string;
  /** The accepted event types, each with its handler; anything else is dead-lettered. */
  handlers: readonly EventSubscription[];
  /** Attempts per event before it is dead-lettered (default 3). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt (default 100 ms). */
  retryBackoffMs?: number;
  /**
   * The fast path for a consumer whose work is cheaper in bulk: called once per batch with every
   * accepted event not yet settled, in order, instead of each event's handler. If it throws, the
   * batch is settled the careful way with the per-event handlers, so both must have the same
   * effect.
   */
  handleBatch?: BatchHandler;
  /**
   * Called in the batch's transaction with the messages it dead-letters, after they are written
   * to the outbox: whatever it writes commits with them (an alert event, say). It must not fail
   * on any input, or the batch could never settle.
   */
  onDeadLettered?: (
    letters: readonly DeadLetteredMessage[],
    transaction: EntityManager,
  ) => Promise<void>;
}

/** A message the consumer gave up on, as `onDeadLettered` sees it: never its content. */
export interface DeadLetteredMessage {
  /** The inbox key: the event's id, or `raw:<sha-256 of topic and value>` for an invalid message. */
  messageId: string;
  topic: string;
  /** Transport position ("partition/offset" on Kafka). */
  position: string;
  reason: string;
  /** Handler attempts made; 0 when the message was refused before any handler ran. */
  attempts: number;
}

/** Handles the accepted events of one batch, in order, inside the transaction that settles it. */
export type BatchHandler = (
  events: readonly CloudEventEnvelope[],
  transaction: EntityManager,
) => Promise<void>;

export function defineConsumer(definition: ConsumerDefinition): ConsumerDefinition {
  const types = definition.handlers.map((subscription) => subscription.definition.type);
  if (new Set(types).size !== types.length) {
    throw new Error(`consumer ${definition.name} has two handlers for one event type`);
  }
  return definition;
}

interface InboxRow {
  eventId: string;
  topic: string;
  status: 'handled' | 'dead-lettered';
  error: string | null;
}

/**
 * Thrown by a handler that cannot run yet because something it depends on is unavailable (a KMS
 * that does not answer). Retrying it a few times and dead-lettering the event would lose it for a
 * consumer that must see every event (audit): instead the whole batch is rolled back and left
 * unsettled, and the transport delivers it again later (Kafka refetches from the uncommitted
 * offset, the in-process relay retries with its backoff).
 */
export class RetryBatchLaterError extends Error {
  override readonly name = 'RetryBatchLaterError';
}

/** A handler failed on the fast path: the batch is rolled back and settled the careful way. */
class FastPathFailure extends Error {
  constructor(
    /** The event whose handler failed; undefined when a batch handler failed for them all. */
    readonly eventId: string | undefined,
    readonly error: unknown,
  ) {
    super('handler failed on the fast path');
  }
}

interface DeadLetter {
  eventId: string;
  message: IncomingMessage;
  reason: string;
  attempts: number;
}

/**
 * Runs a consumer with exactly-once effects on the service's own database: for each batch, one
 * transaction records every settled event id in the inbox together with the handler's writes, so
 * a redelivered event is recognised and skipped. A handler that keeps failing (bounded retries
 * with exponential backoff) or a message that is not a valid event is dead-lettered: written to
 * the service's outbox for `<topic>.dlq` in the same transaction, so it is published by the relay
 * with the same guarantees as any event and never blocks the messages behind it.
 */
export class InboxConsumer implements Subscription {
  readonly group: string;
  readonly topics: readonly string[];
  private readonly byType: ReadonlyMap<string, EventDefinition>;
  private readonly handlers: ReadonlyMap<string, EventHandler<EventDefinition>>;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly definition: ConsumerDefinition,
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly logger: Logger,
  ) {
    this.group = definition.name;
    this.byType = new Map(definition.handlers.map(({ definition: event }) => [event.type, event]));
    this.handlers = new Map(
      definition.handlers.map(({ definition: event, handler }) => [event.type, handler]),
    );
    this.topics = [
      ...new Set(definition.handlers.map(({ definition: event }) => event.topic.name)),
    ];
    this.maxAttempts = definition.maxAttempts ?? 3;
    this.backoffMs = definition.retryBackoffMs ?? 100;
  }

  async handleBatch(messages: IncomingMessage[], heartbeat: () => Promise<void>): Promise<void> {
    if (messages.length === 0) return;
    const decoded = messages.map((message) => this.decode(message));
    // Fast path: every handler runs straight in the batch transaction, without the savepoint per
    // event (two round trips each) that only a failing handler needs. The first failure rolls the
    // whole batch back, and the batch is settled again event by event with savepoints and
    // retries, the failed try counting as that event's first attempt.
    try {
      await this.settle(decoded, heartbeat, undefined);
    } catch (error) {
      if (!(error instanceof FastPathFailure)) throw error;
      this.logger.warn(
        {
          err: error.error,
          ...(error.eventId === undefined ? { batch: decoded.length } : { eventId: error.eventId }),
          attempt: 1,
          consumer: this.group,
        },
        error.eventId === undefined ? 'batch handler failed' : 'event handler failed',
      );
      await this.settle(decoded, heartbeat, error);
    }
  }

  /**
   * One transaction settling the batch: the fast path when `careful` is undefined (the batch
   * handler once, or each event's handler), else event by event with a savepoint and retries
   * each, after the fast path failed on `careful.eventId` (on every event, for a batch handler).
   */
  private async settle(
    decoded: ReturnType<InboxConsumer['decode']>[],
    heartbeat: () => Promise<void>,
    careful: FastPathFailure | undefined,
  ): Promise<void> {
    await this.dataSource.transaction(async (transaction) => {
      const seen = await this.alreadySettled(
        transaction,
        decoded.map((item) => item.eventId),
      );
      const settled: InboxRow[] = [];
      const deadLetters: DeadLetter[] = [];
      const batchHandler = careful === undefined ? this.definition.handleBatch : undefined;
      const accepted: CloudEventEnvelope[] = [];
      for (const item of decoded) {
        if (seen.has(item.eventId)) continue;
        seen.add(item.eventId);
        if (!item.ok) {
          deadLetters.push({
            eventId: item.eventId,
            message: item.message,
            reason: item.reason,
            attempts: 0,
          });
          settled.push(this.row(item, 'dead-lettered', item.reason));
          continue;
        }
        if (batchHandler) {
          accepted.push(item.event);
          settled.push(this.row(item, 'handled', null));
          continue;
        }
        if (careful === undefined) {
          await this.handleOnce(item.eventId, item.event, item.definition, transaction);
          settled.push(this.row(item, 'handled', null));
          await heartbeat();
          continue;
        }
        const earlier = careful.eventId === item.eventId ? careful : undefined;
        const outcome = await this.handleWithRetries(
          item.event,
          item.definition,
          transaction,
          earlier,
        );
        if (outcome.ok) {
          settled.push(this.row(item, 'handled', null));
        } else {
          deadLetters.push({
            eventId: item.eventId,
            message: item.message,
            reason: outcome.reason,
            attempts: this.maxAttempts,
          });
          settled.push(this.row(item, 'dead-lettered', outcome.reason));
        }
        await heartbeat();
      }
      if (batchHandler && accepted.length > 0) {
        try {
          await batchHandler(accepted, transaction);
        } catch (error) {
          if (error instanceof RetryBatchLaterError) throw error;
          throw new FastPathFailure(undefined, error);
        }
        await heartbeat();
      }
      await this.recordSettled(transaction, settled);
      await this.writeDeadLetters(transaction, deadLetters);
    });
  }

  private decode(message: IncomingMessage):
    | {
        ok: true;
        message: IncomingMessage;
        eventId: string;
        event: CloudEventEnvelope;
        definition: EventDefinition;
      }
    | { ok: false; message: IncomingMessage; eventId: string; reason: string } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.value ?? '');
    } catch {
      return { ok: false, message, eventId: rawId(message), reason: 'not JSON' };
    }
    const validation = validateEvent(parsed, this.byType);
    if (!validation.ok) {
      // Keyed by content, never by the message's own `id`: an invalid message must not be able to
      // mark a real event's id as settled.
      return { ok: false, message, eventId: rawId(message), reason: validation.reason };
    }
    return {
      ok: true,
      message,
      eventId: validation.event.id,
      event: validation.event,
      definition: validation.definition,
    };
  }

  /** The fast path: the handler once, no savepoint; a failure aborts the whole batch. */
  private async handleOnce(
    eventId: string,
    event: CloudEventEnvelope,
    definition: EventDefinition,
    transaction: EntityManager,
  ): Promise<void> {
    const handler = this.handlers.get(definition.type);
    if (!handler)
      throw new FastPathFailure(eventId, new Error(`no handler for ${definition.type}`));
    try {
      await context.with(contextFromTraceHeaders(event), () =>
        handler(event as EventOf<EventDefinition>, transaction),
      );
    } catch (error) {
      if (error instanceof RetryBatchLaterError) throw error;
      throw new FastPathFailure(eventId, error);
    }
  }

  private async handleWithRetries(
    event: CloudEventEnvelope,
    definition: EventDefinition,
    transaction: EntityManager,
    /** This event's failed try on the fast path: attempt 1, already made. */
    earlier?: FastPathFailure,
  ): Promise<{ ok: true } | { ok: false; reason: string }> {
    const handler = this.handlers.get(definition.type);
    if (!handler) return { ok: false, reason: `no handler for ${definition.type}` };
    const traceContext = contextFromTraceHeaders(event);
    let lastError: unknown = earlier?.error;
    if (earlier && this.maxAttempts > 1) await sleep(this.backoffMs);
    for (let attempt = earlier ? 2 : 1; attempt <= this.maxAttempts; attempt++) {
      await transaction.query('SAVEPOINT inbox_event');
      try {
        await context.with(traceContext, () =>
          handler(event as EventOf<EventDefinition>, transaction),
        );
        await transaction.query('RELEASE SAVEPOINT inbox_event');
        return { ok: true };
      } catch (error) {
        lastError = error;
        await transaction.query('ROLLBACK TO SAVEPOINT inbox_event');
        // The whole transaction is rolled back by the throw: nothing of the batch is settled.
        if (error instanceof RetryBatchLaterError) throw error;
        this.logger.warn(
          { err: error, eventId: event.id, type: event.type, attempt, consumer: this.group },
          'event handler failed',
        );
        if (attempt < this.maxAttempts) await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
    const reason =
      lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : 'handler failed';
    return { ok: false, reason: reason.slice(0, 1_000) };
  }

  private row(
    item: { eventId: string; message: IncomingMessage },
    status: InboxRow['status'],
    error: string | null,
  ): InboxRow {
    return { eventId: item.eventId, topic: item.message.topic, status, error };
  }

  private async alreadySettled(transaction: EntityManager, ids: string[]): Promise<Set<string>> {
    const rows = await transaction.query<{ event_id: string }[]>(
      `SELECT event_id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])`,
      [this.group, ids],
    );
    return new Set(rows.map((row) => row.event_id));
  }

  private async recordSettled(transaction: EntityManager, rows: InboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await transaction.query(
      `INSERT INTO inbox (consumer, event_id, status, topic, error)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])`,
      [
        this.group,
        rows.map((row) => row.eventId),
        rows.map((row) => row.status),
        rows.map((row) => row.topic),
        rows.map((row) => row.error),
      ],
    );
  }

  private async writeDeadLetters(transaction: EntityManager, letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    for (const letter of letters) {
      this.logger.error(
        {
          consumer: this.group,
          topic: letter.message.topic,
          position: letter.message.position,
          reason: letter.reason,
        },
        'event dead-lettered',
      );
    }
    await transaction.query(
      `INSERT INTO outbox (topic, message_key, payload, headers)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
      [
        letters.map((letter) => deadLetterTopic(letter.message.topic)),
        letters.map((letter) => withoutNul(letter.message.key ?? '')),
        letters.map((letter) => storableValue(letter.message.value ?? '').value),
        letters.map((letter) =>
          JSON.stringify({
            ...Object.fromEntries(
              Object.entries(letter.message.headers).map(([name, value]) => [
                withoutNul(name),
                withoutNul(value),
              ]),
            ),
            ...(storableValue(letter.message.value ?? '').base64
              ? { 'rampart-dlq-encoding': 'base64' }
              : {}),
            'rampart-dlq-reason': withoutNul(letter.reason),
            'rampart-dlq-consumer': this.group,
            'rampart-dlq-source-position': letter.message.position,
            'rampart-dlq-attempts': String(letter.attempts),
          }),
        ),
      ],
    );
    await transaction.query(`SELECT pg_notify($1, '')`, [outboxChannel(this.schema)]);
    await this.definition.onDeadLettered?.(
      letters.map((letter) => ({
        messageId: letter.eventId,
        topic: letter.message.topic,
        position: letter.message.position,
        reason: letter.reason,
        attempts: letter.attempts,
      })),
      transaction,
    );
  }
}

/*
 * PostgreSQL text and jsonb cannot hold NUL characters. A dead letter must always be storable, or
 * its batch would fail forever: a value with NUL is kept whole as base64 (and says so in a
 * header); keys, headers and reasons have NUL replaced.
 */
function storableValue(value: string): { value: string; base64: boolean } {
  return value.includes('\u0000')
    ? { value: Buffer.from(value, 'utf8').toString('base64'), base64: true }
    : { value, base64: false };
}

function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

function rawId(message: IncomingMessage): string {
  const digest = createHash('sha256')
    .update(message.topic)
    .update('\0')
    .update(message.value ?? '')
    .digest('hex');
  return `raw:${digest}`;
}
