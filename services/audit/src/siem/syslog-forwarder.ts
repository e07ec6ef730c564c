import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { auditChainRepository } from '../chain/audit-chain.repository.js';
import { forwardUntilStopped, type ForwardingPace } from './forwarding-loop.js';
import { siemCursorRepository } from './siem-cursor.repository.js';
import { SyslogConnection, type SyslogTarget } from './syslog-connection.js';
import { octetCounted, syslogMessage, type SyslogOptions } from './syslog-format.js';

export interface SyslogForwarderOptions extends ForwardingPace {
  /** The cursor's key: one position per receiver (`host:port`). */
  destination: string;
  target: SyslogTarget;
  syslog: SyslogOptions;
  logger: Logger;
  /** How long a connection attempt or a batch's write may take. */
  timeoutMs?: number;
  /** How long a connection must outlive a batch for the batch to count as received. */
  settleMs?: number;
  /**
   * How long this replica keeps the destination after its last round: longer than its longest
   * pause (`maxBackoffMs`), so no other replica sends while it has a batch in flight.
   */
  leaseMs?: number;
}

const DEFAULT_IDLE_MS = 1_000;
const DEFAULT_MIN_BACKOFF_MS = 1_000;
const DEFAULT_MAX_BACKOFF_MS = 60_000;
const DEFAULT_SETTLE_MS = 100;
const DEFAULT_LEASE_MS = 120_000;

/** The receiver could not be reached or did not take a batch: retried, never fatal. */
export class SyslogDeliveryError extends Error {
  override name = 'SyslogDeliveryError';
}

/** A batch written but not yet counted as received: the cursor is still at `after`. */
interface InFlight {
  connection: SyslogConnection;
  after: number;
  upTo: number;
  sentAt: number;
}

/**
 * Forwards the audit chain to one syslog receiver, in sequence order, from a cursor in the
 * database (docs/architecture/audit.md, "SIEM forwarding").
 *
 * Syslog has no acknowledgement, and a socket's write callback only says the operating system
 * took the bytes: a TLS 1.3 receiver refuses a client certificate only after the client finished
 * its handshake, and a receiver that fails drops what it had not read. So a batch counts as
 * received only once its connection outlived it by `settleMs` without an error, checked at the
 * next round (or at stop); the cursor moves then. A batch whose connection broke is sent again
 * from the cursor: delivery is at least once, and a duplicate carries the same `seq` and
 * `eventId` as the first copy. One replica forwards to a destination at a time: a round holds
 * the cursor's row lock, and a lease in that row keeps other replicas out between rounds.
 */
export class SyslogForwarder {
  private connection: SyslogConnection | undefined;
  private inFlight: InFlight | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  /** This forwarder's name in the cursor's lease. */
  private readonly holder = randomUUID();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: SyslogForwarderOptions,
  ) {}

  /**
   * One round: confirm the previous batch, send the next. Answers how many records were sent (0
   * when up to date or another replica holds the cursor); throws when the receiver could not be
   * reached, the write failed or the previous batch's connection broke, the cursor staying at the
   * last batch known received.
   */
  async forwardBatch(): Promise<number> {
    const { destination, batchSize } = this.options;
    // A network failure is thrown after the commit: the lease and what was confirmed are kept.
    let failure: { error: unknown } | undefined;
    const sent = await this.dataSource.transaction(async (transaction) => {
      const cursor = await siemCursorRepository.claim(
        transaction,
        destination,
        this.holder,
        this.options.leaseMs ?? DEFAULT_LEASE_MS,
      );
      // Another replica's round or lease. A batch in flight stays: if the cursor is still where
      // it was sent from when this replica next holds it, the batch is confirmed then.
      if (cursor === undefined) return 0;
      try {
        const after = await this.confirmInFlight(cursor);
        if (after !== cursor) await siemCursorRepository.advance(transaction, destination, after);
        const records = await auditChainRepository.readAfter(transaction, after, batchSize);
        if (records.length === 0) return 0;
        const bytes = Buffer.concat(
          records.map((record) => octetCounted(syslogMessage(record, this.options.syslog))),
        );
        const connection = await this.connected();
        await connection.send(bytes, this.options.timeoutMs).catch((error: Error) => {
          throw new SyslogDeliveryError(`write failed: ${error.message}`, { cause: error });
        });
        this.inFlight = { connection, after, upTo: records.at(-1)!.sequence, sentAt: Date.now() };
        return records.length;
      } catch (error) {
        if (!(error instanceof SyslogDeliveryError)) throw error;
        failure = { error };
        return 0;
      }
    });
    if (failure) throw failure.error;
    return sent;
  }

  /** Forwards in the background until `stop`: at once while behind, else every `idleMs`. */
  start(): void {
    this.running ??= this.run();
  }

  /**
   * Stops the loop, records the last batch as received if its connection held, gives up the
   * lease (another replica may take over at once) and closes the connection.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    const { destination } = this.options;
    try {
      await this.dataSource.transaction(async (transaction) => {
        const cursor = await siemCursorRepository.claim(transaction, destination, this.holder, 0);
        if (cursor === undefined) return;
        const after = await this.confirmInFlight(cursor).catch(() => cursor);
        if (after !== cursor) await siemCursorRepository.advance(transaction, destination, after);
        await siemCursorRepository.release(transaction, destination, this.holder);
      });
    } catch (error) {
      // Not recorded: the batch is sent again after the restart, or by another replica.
      this.options.logger.warn(
        { destination, reason: (error as Error).message },
        'the last syslog batch is not known to be received',
      );
    } finally {
      this.inFlight = undefined;
      await this.connection?.close();
      this.connection = undefined;
    }
  }

  /**
   * Where the next batch starts: after the batch in flight once its connection outlived it by
   * `settleMs` (waiting out the rest), else at the cursor. Throws when that connection broke, so
   * the round fails, backs off, and sends the batch again.
   */
  private async confirmInFlight(cursor: number): Promise<number> {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    // Sent before a restart of the round's transaction, or by a cursor another replica moved.
    if (!inFlight || inFlight.after !== cursor) return cursor;
    const settleMs = this.options.settleMs ?? DEFAULT_SETTLE_MS;
    const wait = inFlight.sentAt + settleMs - Date.now();
    if (wait > 0) await sleep(wait);
    if (inFlight.connection.broken) {
      throw new SyslogDeliveryError(
        `the connection broke after records ${inFlight.after + 1}-${inFlight.upTo} were written ` +
          `(${inFlight.connection.reason ?? 'closed'}); they are sent again`,
      );
    }
    return inFlight.upTo;
  }

  private run(): Promise<void> {
    const where = { destination: this.options.destination };
    return forwardUntilStopped(
      () => this.forwardBatch(),
      {
        batchSize: this.options.batchSize,
        idleMs: this.options.idleMs ?? DEFAULT_IDLE_MS,
        minBackoffMs: this.options.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS,
        maxBackoffMs: this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      },
      this.stopping.signal,
      {
        resumed: (failures) =>
          this.options.logger.info({ ...where, failures }, 'syslog forwarding resumed'),
        failed: async (error, failures, retryInMs) => {
          this.options.logger.warn(
            { ...where, failures, retryInMs, reason: error.message },
            'syslog forwarding failed; sending again from the last batch known received',
          );
          await this.connection?.close();
          this.connection = undefined;
        },
      },
    );
  }

  private async connected(): Promise<SyslogConnection> {
    if (this.connection && !this.connection.broken) return this.connection;
    await this.connection?.close();
    this.connection = undefined;
    this.connection = await SyslogConnection.open(
      this.options.target,
      this.options.timeoutMs,
    ).catch((error: Error) => {
      throw new SyslogDeliveryError(`cannot connect: ${error.message}`, { cause: error });
    });
    return this.connection;
  }
}
