import type { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  openAndMigrate,
  runPrepared,
  type Logger,
} from '@rampart/platform';
import { CreateGatewayRateLimits1766000000000 } from '../database/migrations/1766000000000-create-gateway-rate-limits.js';
import { InMemoryRateLimitStore } from './in-memory-store.js';
import {
  describeDecision,
  emissionIntervalMs,
  toleranceMs,
  type RateLimitDecision,
  type RateLimitPolicy,
  type RateLimitStore,
} from './rate-limit-store.js';

export const RATE_LIMIT_MIGRATIONS = [CreateGatewayRateLimits1766000000000];

/**
 * One GCRA step as a single atomic upsert, so concurrent replicas never both spend the last unit.
 * The database's clock is the only clock, so replicas with skewed clocks still agree. `$2` is
 * the cost in milliseconds, `$3` the tolerance; the inserted value is now + cost, so `EXCLUDED`'s
 * value minus `$2` is now. A refused hit updates nothing (the WHERE fails), and the row as it was
 * before the statement tells how long to wait.
 */
const CONSUME_SQL = `
  WITH clock AS (
    SELECT (extract(epoch FROM clock_timestamp()) * 1000)::double precision AS now_ms
  ), granted AS (
    INSERT INTO gateway_rate_limits AS bucket (key, theoretical_arrival_ms)
    SELECT $1, clock.now_ms + $2::double precision FROM clock
    ON CONFLICT (key) DO UPDATE
      SET theoretical_arrival_ms =
        GREATEST(bucket.theoretical_arrival_ms + $2::double precision, EXCLUDED.theoretical_arrival_ms)
      WHERE GREATEST(bucket.theoretical_arrival_ms + $2::double precision, EXCLUDED.theoretical_arrival_ms)
            - (EXCLUDED.theoretical_arrival_ms - $2::double precision) <= $3::double precision
    RETURNING theoretical_arrival_ms
  )
  SELECT clock.now_ms,
         granted.theoretical_arrival_ms AS granted_ms,
         (SELECT theoretical_arrival_ms FROM gateway_rate_limits WHERE key = $1) AS held_ms
  FROM clock LEFT JOIN granted ON true`;

const SWEEP_SQL = `
  DELETE FROM gateway_rate_limits
  WHERE theoretical_arrival_ms < (extract(epoch FROM clock_timestamp()) * 1000)::double precision`;

interface ConsumeRow {
  now_ms: number;
  granted_ms: number | null;
  held_ms: number | null;
}

export interface PostgresStoreOptions {
  readonly url: string;
  readonly schema: string;
  /** Keys the fallback may hold while the database does not answer. */
  readonly fallbackMaxKeys: number;
  /** How long a hit may wait for the database before the fallback decides it. */
  readonly timeoutMs?: number;
  readonly sweepIntervalMs?: number;
}

const DEFAULT_TIMEOUT_MS = 250;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
/** At most one warning per minute while the database is failing: not one per request. */
const WARNING_INTERVAL_MS = 60_000;
/**
 * After a failure the database is left alone this long: queueing every hit behind a hung
 * connection pool would pile up waiting requests exactly when the gateway is under load.
 */
const BACK_OFF_MS = 5_000;
/** Replicas starting together race to create the table; the loser retries and finds it made. */
const MIGRATION_ATTEMPTS = 3;

/**
 * Rate limits shared by every gateway replica through one PostgreSQL table. When the database
 * fails or is slow, each replica falls back to its own in-memory limits (ADR 0030: neither open,
 * which would lift every limit during an outage, nor closed, which would turn a database outage
 * into a full one); an attacker then gets at most the limit times the number of replicas.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  private readonly fallback: InMemoryRateLimitStore;
  private readonly sweeper: NodeJS.Timeout;
  private lastWarningAt = 0;
  private databaseSkippedUntil = 0;

  private constructor(
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    private readonly options: PostgresStoreOptions,
  ) {
    this.fallback = new InMemoryRateLimitStore(options.fallbackMaxKeys);
    this.sweeper = setInterval(() => {
      void this.sweep().catch((error: unknown) =>
        this.warn(error, 'could not sweep expired rate-limit rows'),
      );
    }, options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Connects, creates or updates the table, and starts sweeping. */
  static async open(
    options: PostgresStoreOptions,
    logger: Logger,
  ): Promise<PostgresRateLimitStore> {
    const dataSource = createServiceDataSource({
      url: options.url,
      schema: options.schema,
      migrations: RATE_LIMIT_MIGRATIONS,
      poolSize: 10,
      applicationName: 'rampart-gateway-rate-limits',
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await openAndMigrate(dataSource);
        break;
      } catch (error) {
        if (attempt >= MIGRATION_ATTEMPTS) {
          if (dataSource.isInitialized) await dataSource.destroy();
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    return new PostgresRateLimitStore(dataSource, logger, options);
  }

  async consume(key: string, cost: number, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    if (Date.now() < this.databaseSkippedUntil) return this.fallback.consume(key, cost, policy);
    const increment = cost * emissionIntervalMs(policy);
    let timer: NodeJS.Timeout | undefined;
    try {
      const rows = await Promise.race([
        runPrepared<ConsumeRow>(this.dataSource, 'gateway-rate-limit-consume', CONSUME_SQL, [
          key,
          increment,
          toleranceMs(policy),
        ]),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error('rate-limit store did not answer in time')),
            this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          );
        }),
      ]);
      const row = rows[0]!;
      const allowed = row.granted_ms !== null;
      const arrival = row.granted_ms ?? row.held_ms ?? row.now_ms;
      return describeDecision(allowed, arrival, row.now_ms, cost, policy);
    } catch (error) {
      this.databaseSkippedUntil = Date.now() + BACK_OFF_MS;
      this.warn(error, 'rate-limit database unavailable: limits are per replica until it is back');
      return this.fallback.consume(key, cost, policy);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Deletes rows whose quota is whole again; any replica may, and several at once is harmless. */
  async sweep(): Promise<void> {
    await this.dataSource.query(SWEEP_SQL);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.fallback.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  private warn(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastWarningAt < WARNING_INTERVAL_MS) return;
    this.lastWarningAt = now;
    this.logger.warn({ err: error }, message);
  }
}
