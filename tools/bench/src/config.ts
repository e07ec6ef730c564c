/** The benchmark's knobs, all from the environment so that `nx run bench:events` takes them. */
export interface BenchConfig {
  /** Events of the saturation phase (throughput); 0 skips the phase. */
  events: number;
  /** Events per producer transaction in the saturation phase. */
  txEvents: number;
  /** `bulk`: a transaction's events in one Outbox.writeMany; `single`: one Outbox.write each. */
  write: 'bulk' | 'single';
  /** Producer transactions in flight at once in the saturation phase. */
  producers: number;
  /** Distinct subject keys (Kafka message keys) the events are spread over. */
  subjects: number;
  /** Events pushed through first and not measured (JIT, connection pools, consumer group join). */
  warmupEvents: number;
  /** Offered rate of the fixed-rate (latency) phase, events/s; 0 skips the phase. */
  rate: number;
  rateSeconds: number;
  /** Events per producer transaction in the fixed-rate phase. */
  rateTxEvents: number;
  /** Partitions of the benchmark topic, and how many of them the consumer handles at once. */
  partitions: number;
  consumerConcurrency: number;
  relayBatchSize: number;
  relayPollIntervalMs: number;
  /** Connections of the service's pool (producer, relay reads and consumer transactions share it). */
  poolSize: number;
  /** Give up on a phase that has not been fully applied after this long. */
  timeoutSeconds: number;
  /** Level of the platform's and kafkajs's log lines after the warm-up. */
  logLevel: string;
}

function positiveInt(name: string, fallback: number, { allowZero = false } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new Error(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${raw}"`,
    );
  }
  return value;
}

function writeMode(): 'bulk' | 'single' {
  const raw = process.env['BENCH_WRITE'] ?? 'bulk';
  if (raw !== 'bulk' && raw !== 'single')
    throw new Error(`BENCH_WRITE must be bulk or single, got "${raw}"`);
  return raw;
}

export function readConfig(): BenchConfig {
  const partitions = positiveInt('BENCH_PARTITIONS', 3);
  const consumerConcurrency = positiveInt('BENCH_CONSUMER_CONCURRENCY', partitions);
  const producers = positiveInt('BENCH_PRODUCERS', 2);
  return {
    events: positiveInt('BENCH_EVENTS', 50_000, { allowZero: true }),
    txEvents: positiveInt('BENCH_TX_EVENTS', 500),
    write: writeMode(),
    producers,
    subjects: positiveInt('BENCH_SUBJECTS', 1_000),
    warmupEvents: positiveInt('BENCH_WARMUP_EVENTS', 2_000, { allowZero: true }),
    rate: positiveInt('BENCH_RATE', 2_000, { allowZero: true }),
    rateSeconds: positiveInt('BENCH_RATE_SECONDS', 10),
    rateTxEvents: positiveInt('BENCH_RATE_TX_EVENTS', 10),
    partitions,
    consumerConcurrency,
    relayBatchSize: positiveInt('BENCH_RELAY_BATCH', 1_000),
    relayPollIntervalMs: positiveInt('BENCH_RELAY_POLL_MS', 1_000),
    // Every producer and every concurrently consumed partition holds a connection for a whole
    // transaction; the relay needs one more so that it is never starved by either.
    poolSize: positiveInt('BENCH_POOL', producers + consumerConcurrency + 2),
    timeoutSeconds: positiveInt('BENCH_TIMEOUT_S', 180),
    logLevel: process.env['BENCH_LOG_LEVEL'] || 'error',
  };
}
