import { createHash, randomUUID } from 'node:crypto';
import { AUDIT_STREAM_KEY, AuditStreamEvents } from '@rampart/contracts';
import {
  createEvent,
  type EventTransport,
  type Logger,
  type OutgoingMessage,
} from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { auditChainRepository, type StoredRecord } from '../chain/audit-chain.repository.js';
import { forwardUntilStopped, type ForwardingPace } from '../siem/forwarding-loop.js';
import { siemCursorRepository } from '../siem/siem-cursor.repository.js';

/** The stream's position among the log's forwarding cursors (`audit_siem_cursors`). */
export const STREAM_DESTINATION = `kafka:${AuditStreamEvents.appended.topic.name}`;

/** The envelope's tenant when a record names none a CloudEvent could carry. */
const DEFAULT_TENANT = 'default';

const CLOUDEVENTS_HEADERS = { 'content-type': 'application/cloudevents+json' };

function tenantOf(record: Record<string, unknown>): string {
  const metadata = record['metadata'] as { tenant_uid?: unknown } | undefined;
  const tenant = metadata?.tenant_uid;
  return typeof tenant === 'string' && tenant.length > 0 && tenant.length <= 64
    ? tenant
    : DEFAULT_TENANT;
}

/**
 * The CloudEvent id of the record with `sequence` in the log named `origin`: the same every time
 * the record is published, so a consumer's inbox recognises a record published twice (after a
 * crash between the publish and the cursor's move). A UUID of version 8 (RFC 9562, "custom")
 * made of the first 16 bytes of SHA-256 over the origin and the sequence number.
 */
export function streamEventId(origin: string, sequence: number): string {
  const bytes = createHash('sha256')
    .update(`rampart.audit.v1\u0000${origin}\u0000${sequence}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One record of the chain as its message on `rampart.audit.v1`. */
export function streamMessage(origin: string, row: StoredRecord): OutgoingMessage {
  // Retention prunes only what every cursor has passed (retention/archiver.ts).
  if (row.record === null)
    throw new Error(`record ${row.sequence} was pruned before it was published`);
  const record = JSON.parse(row.record) as Record<string, unknown>;
  const envelope = {
    ...createEvent('audit', AuditStreamEvents.appended, {
      subject: AUDIT_STREAM_KEY,
      tenant: tenantOf(record),
      data: {
        sequence: row.sequence,
        previousHash: row.previousHash.toString('hex'),
        hash: row.hash.toString('hex'),
        record,
      },
    }),
    id: streamEventId(origin, row.sequence),
    time: row.recordedAt.toISOString(),
  };
  return {
    topic: AuditStreamEvents.appended.topic.name,
    key: AUDIT_STREAM_KEY,
    value: JSON.stringify(envelope),
    headers: CLOUDEVENTS_HEADERS,
  };
}

export interface AuditStreamOptions extends ForwardingPace {
  /** The log's origin (AUDIT_LOG_ORIGIN): part of every message's id. */
  origin: string;
  logger: Logger;
  /** How long this replica keeps the stream after its last round, so one replica publishes. */
  leaseMs?: number;
}

const DEFAULT_IDLE_MS = 50;
const DEFAULT_MIN_BACKOFF_MS = 500;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const DEFAULT_LEASE_MS = 30_000;

/**
 * The security teams' stream (docs/security-teams-stream.md): every record of the chain, in
 * sequence order, under one key, published from the chain itself. The chain is already durable
 * and ordered, so it serves as its own outbox: a cursor (`audit_siem_cursors`, destination
 * `kafka:rampart.audit.v1`) says how far the stream got, and moves in the transaction of the
 * round, after the transport acknowledged the batch. A round that fails, or a replica that dies
 * before its commit, publishes the batch again, with the same message ids: delivery is at least
 * once, as through the outbox, and a message exists only for a committed record. One replica
 * publishes at a time (the cursor row's lock and lease). Writing each record a second time into
 * the outbox, marking it published and purging it was the larger part of the database's work
 * per appended record (docs/benchmarks.md, "Audit ingest").
 */
export class AuditStreamPublisher {
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  /** This publisher's name in the cursor's lease. */
  private readonly holder = randomUUID();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: EventTransport,
    private readonly options: AuditStreamOptions,
  ) {}

  /** One round: the next batch after the cursor, published, then the cursor moved past it. */
  async publishBatch(): Promise<number> {
    return this.dataSource.transaction(async (transaction) => {
      const cursor = await siemCursorRepository.claim(
        transaction,
        STREAM_DESTINATION,
        this.holder,
        this.options.leaseMs ?? DEFAULT_LEASE_MS,
      );
      if (cursor === undefined) return 0;
      const rows = await auditChainRepository.readAfter(
        transaction,
        cursor,
        this.options.batchSize,
      );
      if (rows.length === 0) return 0;
      await this.transport.publish(rows.map((row) => streamMessage(this.options.origin, row)));
      await siemCursorRepository.advance(transaction, STREAM_DESTINATION, rows.at(-1)!.sequence);
      return rows.length;
    });
  }

  /** Publishes in the background until `stop`: at once while behind, else every `idleMs`. */
  start(): void {
    this.running ??= this.run();
  }

  /** Stops the loop and gives up the lease, so another replica may publish at once. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.dataSource
      .transaction((transaction) =>
        siemCursorRepository.release(transaction, STREAM_DESTINATION, this.holder),
      )
      .catch(() => undefined);
  }

  private run(): Promise<void> {
    return forwardUntilStopped(
      () => this.publishBatch(),
      {
        batchSize: this.options.batchSize,
        // The stream's added latency once it caught up.
        idleMs: this.options.idleMs ?? DEFAULT_IDLE_MS,
        minBackoffMs: this.options.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS,
        maxBackoffMs: this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      },
      this.stopping.signal,
      {
        resumed: (failures) => this.options.logger.info({ failures }, 'audit stream resumed'),
        failed: (error, failures, retryInMs) =>
          this.options.logger.warn(
            { failures, retryInMs, reason: error.message },
            'audit stream not published; retried from its cursor',
          ),
      },
    );
  }
}
