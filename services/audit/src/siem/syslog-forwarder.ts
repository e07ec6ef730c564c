import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { auditChainRepository } from '../chain/audit-chain.repository.js';
import { siemCursorRepository } from './siem-cursor.repository.js';
import { SyslogConnection, type SyslogTarget } from './syslog-connection.js';
import { octetCounted, syslogMessage, type SyslogOptions } from './syslog-format.js';

export interface SyslogForwarderOptions {
  /** The cursor's key: one position per receiver (`host:port`). */
  destination: string;
  target: SyslogTarget;
  syslog: SyslogOptions;
  /** Records per round: read, sent and acknowledged together, the most held in memory. */
  batchSize: number;
  logger: Logger;
  /** Pause after a round that found the receiver up to date. */
  idleMs?: number;
  /** Pause after the first failed round, doubled per further failure up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a connection attempt or a batch's write may take. */
  timeoutMs?: number;
}

const DEFAULT_IDLE_MS = 1_000;
const DEFAULT_MIN_BACKOFF_MS = 1_000;
const DEFAULT_MAX_BACKOFF_MS = 60_000;

/**
 * Forwards the audit chain to one syslog receiver, in sequence order, from a cursor in the
 * database. A round claims the cursor (one replica at a time), reads the next batch, writes it
 * and moves the cursor in the same transaction once the connection took the bytes. A failed
 * write rolls the round back and the batch is sent again: delivery is at least once, and a
 * duplicate carries the same `seq` and `eventId` as the first copy.
 */
export class SyslogForwarder {
  private connection: SyslogConnection | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: SyslogForwarderOptions,
  ) {}

  /**
   * One round. Answers how many records were forwarded (0 when up to date or another replica
   * holds the cursor); throws when the receiver could not be reached or the write failed, with
   * the cursor where it was.
   */
  async forwardBatch(): Promise<number> {
    const { destination, batchSize } = this.options;
    return this.dataSource.transaction(async (transaction) => {
      const after = await siemCursorRepository.claim(transaction, destination);
      if (after === undefined) return 0;
      const records = await auditChainRepository.readAfter(transaction, after, batchSize);
      if (records.length === 0) return 0;
      const bytes = Buffer.concat(
        records.map((record) => octetCounted(syslogMessage(record, this.options.syslog))),
      );
      const connection = await this.connected();
      await connection.send(bytes, this.options.timeoutMs);
      await siemCursorRepository.advance(transaction, destination, records.at(-1)!.sequence);
      return records.length;
    });
  }

  /** Forwards in the background until `stop`: at once while behind, else every `idleMs`. */
  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.connection?.close();
    this.connection = undefined;
  }

  private async run(): Promise<void> {
    const idleMs = this.options.idleMs ?? DEFAULT_IDLE_MS;
    const minBackoffMs = this.options.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS;
    const maxBackoffMs = this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    const where = { destination: this.options.destination };
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      let pause: number;
      try {
        const forwarded = await this.forwardBatch();
        if (failures > 0)
          this.options.logger.info({ ...where, failures }, 'syslog forwarding resumed');
        failures = 0;
        pause = forwarded === this.options.batchSize ? 0 : idleMs;
      } catch (error) {
        failures += 1;
        pause = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(failures - 1, 16));
        this.options.logger.warn(
          { ...where, failures, retryInMs: pause, reason: (error as Error).message },
          'syslog forwarding failed; the batch is sent again after a pause',
        );
        await this.connection?.close();
        this.connection = undefined;
      }
      await sleep(pause, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  private async connected(): Promise<SyslogConnection> {
    if (this.connection && !this.connection.broken) return this.connection;
    await this.connection?.close();
    this.connection = undefined;
    this.connection = await SyslogConnection.open(this.options.target, this.options.timeoutMs);
    return this.connection;
  }
}
