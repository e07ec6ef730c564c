import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { KeyAccessEvents, type ErrorCode, type KeyOperation } from '@rampart/contracts';
import { LOGGER, Outbox, RampartError, type Logger, type Principal } from '@rampart/platform';
import { callerData } from '../policies/caller.js';

/** One call on a key, as the caller of `record` describes it. Nothing else is accepted. */
export interface KeyAccessRecord {
  ring: string;
  key?: string | undefined;
  version?: number | undefined;
  operation: KeyOperation;
  caller: Principal;
  outcome: 'ok' | ErrorCode;
  /** Items processed, for batch operations. */
  items?: number | undefined;
}

export interface KeyAuditOptions {
  /** How long a record may wait in memory before it is written. */
  flushIntervalMs: number;
  /** Write at once when this many distinct records are waiting (one statement per this many). */
  flushAtRecords: number;
  /** Distinct records held in memory (waiting or being written) before operations are refused. */
  maxRecords: number;
  /** Age of the oldest unwritten record beyond which operations are refused. */
  maxLagMs: number;
  /** Longest pause between retries while writing fails. */
  maxRetryDelayMs: number;
}

export const KEY_AUDIT_OPTIONS = Symbol('rampart.key-management.audit-options');

export const DEFAULT_KEY_AUDIT_OPTIONS: KeyAuditOptions = {
  flushIntervalMs: 50,
  flushAtRecords: 500,
  maxRecords: 10_000,
  maxLagMs: 5_000,
  maxRetryDelayMs: 1_000,
};

interface PendingRecord {
  ring: string;
  key: string | undefined;
  version: number | undefined;
  operation: KeyOperation;
  caller: ReturnType<typeof callerData>;
  outcome: 'ok' | ErrorCode;
  calls: number;
  items: number | undefined;
  firstAt: number;
  lastAt: number;
}

type Batch = Map<string, PendingRecord>;

/**
 * The audit trail of key use. `record` is called for every call on a key, allowed or refused, and
 * costs a map update: identical calls (same key, version, operation, caller, outcome) made within
 * one flush window become one event with a count, and the window's events are written to the
 * outbox in one statement every `flushIntervalMs` (or sooner when `flushAtRecords` are waiting).
 * The hot path never waits for the database.
 *
 * A KMS must not do what it cannot account for: when records cannot be written (database down or
 * stalled) and either too many wait in memory or the oldest has waited too long, `ensureCapacity`
 * throws and callers refuse the operation (fail closed) until the backlog is written.
 * Records still in memory are written at shutdown.
 */
@Injectable()
export class KeyAuditTrail implements OnApplicationShutdown {
  private readonly options: KeyAuditOptions;
  private waiting: Batch = new Map();
  /** When the oldest record of `waiting` was added. */
  private waitingSince: number | undefined;
  private writing: { batch: Batch; since: number } | undefined;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private refusing = false;
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(KEY_AUDIT_OPTIONS) options?: Partial<KeyAuditOptions>,
  ) {
    this.options = { ...DEFAULT_KEY_AUDIT_OPTIONS, ...options };
  }

  /**
   * Throws `service-unavailable` while the trail cannot take more records: call it before doing
   * an operation, so nothing happens that would go unaudited.
   */
  ensureCapacity(): void {
    const pending = this.waiting.size + (this.writing?.batch.size ?? 0);
    const oldest = this.writing?.since ?? this.waitingSince;
    const full =
      this.closed ||
      pending >= this.options.maxRecords ||
      (oldest !== undefined && Date.now() - oldest > this.options.maxLagMs);
    if (full !== this.refusing) {
      this.refusing = full;
      if (full) {
        this.logger.error(
          { pending, oldestAgeMs: oldest === undefined ? 0 : Date.now() - oldest },
          'key audit trail cannot be written: refusing key operations',
        );
      } else {
        this.logger.info('key audit trail caught up: key operations resume');
      }
    }
    if (full) {
      throw new RampartError(
        'service-unavailable',
        'Key operations are paused until the audit trail can be written.',
        {},
        { headers: { 'retry-after': '1' } },
      );
    }
  }

  /**
   * Records one call. Never waits and never throws for the database; throws only for a record
   * that breaks the event's schema (a bug in the caller).
   */
  record(entry: KeyAccessRecord): void {
    const caller = callerData(entry.caller);
    // Every field that tells calls apart. Names, versions and codes cannot hold the separator;
    // a token's sub and client id can hold anything, so they carry their length.
    const clientId = caller.clientId ?? '';
    const id = [
      entry.operation,
      entry.ring,
      entry.key ?? '',
      entry.version ?? '',
      entry.outcome,
      caller.kind,
      `${caller.id.length}:${caller.id}`,
      `${clientId.length}:${clientId}`,
    ].join('\u0000');
    const now = Date.now();
    const pending = this.waiting.get(id);
    if (pending) {
      pending.calls += 1;
      if (entry.items !== undefined) pending.items = (pending.items ?? 0) + entry.items;
      pending.lastAt = now;
      return;
    }
    // Copied field by field: whatever else the caller's object carries is never written.
    const record: PendingRecord = {
      ring: entry.ring,
      key: entry.key,
      version: entry.version,
      operation: entry.operation,
      caller,
      outcome: entry.outcome,
      calls: 1,
      items: entry.items,
      firstAt: now,
      lastAt: now,
    };
    // Checked now, once per distinct record: one invalid record would otherwise fail its whole
    // batch at write time, again and again, and stop every key operation.
    const checked = KeyAccessEvents.accessed.data.safeParse(toEvent(record).data);
    if (!checked.success) {
      throw new Error(`invalid key audit record: ${z.prettifyError(checked.error)}`);
    }
    this.waiting.set(id, record);
    this.waitingSince ??= now;
    this.schedule();
  }

  /**
   * Writes what is waiting now, after any write already under way (tests, shutdown). Throws if
   * the records could not be written; they stay in memory for the next attempt.
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.clearTimer();
    if (!(await this.startWrite())) throw new Error('key audit records could not be written');
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    try {
      await this.flush();
    } catch (error) {
      this.logger.error(
        { err: error, lostRecords: this.waiting.size },
        'key audit records could not be written at shutdown',
      );
    }
    this.clearTimer();
  }

  /**
   * Plans the next write unless one is planned or under way: at once when a statement's worth is
   * waiting, after the flush interval otherwise, backing off while writes fail.
   */
  private schedule(): void {
    if (this.flushing || this.closed) return;
    const delay =
      this.failures > 0
        ? Math.min(this.options.flushIntervalMs * 2 ** this.failures, this.options.maxRetryDelayMs)
        : this.waiting.size >= this.options.flushAtRecords
          ? 0
          : this.options.flushIntervalMs;
    if (this.timer) {
      if (delay > 0) return;
      this.clearTimer();
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.startWrite();
    }, delay);
    // Waiting records never keep the process alive: shutdown writes them.
    this.timer.unref();
  }

  private startWrite(): Promise<boolean> {
    const written = this.write();
    this.flushing = written.then(() => {
      this.flushing = undefined;
      if (this.waiting.size > 0) this.schedule();
    });
    return written;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes the waiting records in one transaction; on failure puts them back for the next try. */
  private async write(): Promise<boolean> {
    if (this.waiting.size === 0) return true;
    const batch = this.waiting;
    this.writing = { batch, since: this.waitingSince ?? Date.now() };
    this.waiting = new Map();
    this.waitingSince = undefined;
    try {
      const events = [...batch.values()].map(toEvent);
      await this.dataSource.transaction(async (transaction) => {
        for (let start = 0; start < events.length; start += this.options.flushAtRecords) {
          await this.outbox.writeMany(
            transaction,
            events.slice(start, start + this.options.flushAtRecords),
          );
        }
      });
      if (this.failures > 0) this.logger.info('key audit records are written again');
      this.failures = 0;
      return true;
    } catch (error) {
      if (this.failures === 0) {
        this.logger.error({ err: error, records: batch.size }, 'key audit records not written');
      }
      this.failures += 1;
      this.putBack(batch, this.writing.since);
      return false;
    } finally {
      this.writing = undefined;
    }
  }

  private putBack(batch: Batch, since: number): void {
    for (const [id, record] of batch) {
      const newer = this.waiting.get(id);
      if (newer) {
        newer.calls += record.calls;
        if (record.items !== undefined) newer.items = (newer.items ?? 0) + record.items;
        newer.firstAt = record.firstAt;
      } else {
        this.waiting.set(id, record);
      }
    }
    this.waitingSince = Math.min(since, this.waitingSince ?? since);
  }
}

function toEvent(record: PendingRecord) {
  return {
    definition: KeyAccessEvents.accessed,
    // Keyed by key name, like the key's lifecycle events: one key's trail stays in order on its
    // partition, and a consumer can join the two topics on it.
    subject: record.key ?? `keyRings/${record.ring}`,
    data: {
      ring: record.ring,
      ...(record.key === undefined ? {} : { key: record.key }),
      ...(record.version === undefined ? {} : { version: record.version }),
      operation: record.operation,
      caller: record.caller,
      outcome: record.outcome,
      calls: record.calls,
      ...(record.items === undefined ? {} : { items: record.items }),
      firstAt: new Date(record.firstAt).toISOString(),
      lastAt: new Date(record.lastAt).toISOString(),
    },
  };
}
