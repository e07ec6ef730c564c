import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from '../telemetry/logger.js';
import { outboxChannel } from './outbox.js';
import type { EventTransport, OutgoingMessage } from './transport.js';

export interface OutboxRelayOptions {
  schema: string;
  /** Connection for LISTEN and the leader lock (a dedicated session, not a pooled one). */
  databaseUrl: string;
  batchSize?: number;
  /** Fallback poll when no notification arrives (missed notifies, other writers). */
  pollIntervalMs?: number;
  /** How long published rows are kept for inspection before they are purged. */
  retentionMs?: number;
  /**
   * How long the inbox remembers settled event ids. A redelivery older than this would be applied
   * again, so it must exceed the longest redelivery window (Kafka's retention, 7 days by default).
   */
  inboxRetentionMs?: number;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  payload: string;
  headers: Record<string, string>;
}

/**
 * Moves events from the outbox to the transport: read a batch in insertion order, publish it,
 * then mark it published. A crash between publish and mark publishes the batch again (at least
 * once); consumers' inboxes make the repeat harmless. One relay per service is active at a time
 * (a PostgreSQL advisory lock), which keeps per-key order across replicas.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionMs: number;
  private readonly inboxRetentionMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private session: pg.Client | undefined;
  private wake: (() => void) | undefined;
  /** A notification arrived while the relay was busy: skip the next idle wait. */
  private notified = false;
  private lastPurge = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: EventTransport,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.retentionMs = options.retentionMs ?? 60 * 60 * 1_000;
    this.inboxRetentionMs = options.inboxRetentionMs ?? 14 * 24 * 60 * 60 * 1_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.closeSession();
  }

  /** Publishes everything pending now (used by tests and at shutdown); returns how many. */
  async drainOnce(): Promise<number> {
    const rows = await this.dataSource.query<OutboxRow[]>(
      `SELECT id, topic, message_key, payload, headers FROM outbox
        WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    const messages: OutgoingMessage[] = rows.map((row) => ({
      topic: row.topic,
      key: row.message_key,
      value: row.payload,
      headers: row.headers,
    }));
    await this.transport.publish(messages);
    await this.dataSource.query(
      `UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])`,
      [rows.map((row) => row.id)],
    );
    return rows.length;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!(await this.ensureLeadership())) {
          this.notified = false;
          await this.idle(this.pollIntervalMs * 5);
          continue;
        }
        this.notified = false;
        const published = await this.drainOnce();
        failures = 0;
        await this.purgeIfDue();
        if (published < this.batchSize) await this.idle(this.pollIntervalMs);
      } catch (error) {
        failures += 1;
        this.notified = false;
        const backoff = Math.min(30_000, 200 * 2 ** Math.min(failures, 8));
        this.logger.warn({ err: error, backoff }, 'outbox relay failed; retrying');
        await this.closeSession();
        await this.idle(backoff);
      }
    }
  }

  /** Holds the service-wide advisory lock on a dedicated session; LISTENs on the same session. */
  private async ensureLeadership(): Promise<boolean> {
    if (this.session) return true;
    // keepAlive: a half-open session would otherwise keep its lock (and leadership) unnoticed.
    const session = new pg.Client({ connectionString: this.options.databaseUrl, keepAlive: true });
    session.on('error', () => void this.closeSession());
    try {
      await session.connect();
      const lock = await session.query<{ leader: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext($1)) AS leader`,
        [`rampart.outbox-relay.${this.options.schema}`],
      );
      if (!lock.rows[0]?.leader) {
        await session.end();
        return false;
      }
      session.on('notification', () => {
        this.notified = true;
        this.wake?.();
      });
      await session.query(`LISTEN ${outboxChannel(this.options.schema)}`);
    } catch (error) {
      // Ending the session releases a lock taken before the failure.
      await session.end().catch(() => undefined);
      throw error;
    }
    this.session = session;
    return true;
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.end().catch(() => undefined);
  }

  private async idle(ms: number): Promise<void> {
    if (!this.running || this.notified) return;
    const controller = new AbortController();
    this.wake = () => controller.abort();
    await sleep(ms, undefined, { signal: controller.signal }).catch(() => undefined);
    this.wake = undefined;
  }

  /** Once a minute, by the leader only: old published rows, and inbox ids past their window. */
  private async purgeIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    await this.dataSource.query(
      // Dead letters stay: in all-in-one mode nothing else keeps them for an operator to inspect.
      `DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1) AND topic NOT LIKE '%.dlq'`,
      [this.retentionMs / 1_000],
    );
    await this.dataSource.query(
      `DELETE FROM inbox WHERE settled_at < now() - make_interval(secs => $1)`,
      [this.inboxRetentionMs / 1_000],
    );
  }
}
