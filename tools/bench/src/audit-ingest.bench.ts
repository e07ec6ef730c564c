/**
 * Durable ingest into the audit log: events on a real Kafka broker, consumed by the real audit
 * service (its inbox consumer, the hash chain, the Merkle leaves and the security teams' stream
 * outbox, all in the batch's transaction), committed to a PostgreSQL that flushes to disk
 * (`fsync` and synchronous commit on, unless BENCH_DURABLE=false).
 *
 *   drain  BENCH_EVENTS failed sign-ins are put on Kafka while the service is down, then the
 *          service starts and the time until the last one is committed gives the capacity;
 *   rate   BENCH_RATE events a second for BENCH_SECONDS with the service running: the end-to-end
 *          lag of each, from the moment its event was created to the moment a poller (every
 *          BENCH_POLL_MS) first sees its record committed.
 *
 * Not a test: run with `npx nx run bench:audit-ingest`.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { LoginEvents } from '@rampart/contracts';
import { auditService } from '@rampart/audit';
import { createEvent, startService, type RunningService } from '@rampart/platform';
import { createTestDatabase, createTestWorkloadKeys } from '@rampart/platform/testing-support';
import { startTestKafka, startTestPostgres } from '@rampart/testing';
import { coresUsed, sampleCpu, type CpuSample } from './cpu.js';
import { summarize, table } from './stats.js';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 200_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 20_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const POLL_MS = Number(process.env['BENCH_POLL_MS'] ?? 20);
/** Events per producer request while filling the topic. */
const SEND_BATCH = Number(process.env['BENCH_SEND_BATCH'] ?? 1_000);
const DURABLE = process.env['BENCH_DURABLE'] !== 'false';
const TIMEOUT_MS = Number(process.env['BENCH_TIMEOUT_S'] ?? 600) * 1_000;

if (DURABLE) process.env['RAMPART_TEST_POSTGRES_DURABLE'] = 'true';
const postgres = await startTestPostgres();
process.env['RAMPART_TEST_DATABASE_URL'] = postgres.adminUrl;
const kafkaBroker = await startTestKafka();
const database = await createTestDatabase('audit');
const keys = await createTestWorkloadKeys(['audit']);
const kafka = new Kafka({
  clientId: 'rampart-bench-ingest',
  brokers: kafkaBroker.brokers.split(','),
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();

function startAudit(): Promise<RunningService> {
  return startService(auditService, {
    env: {
      PORT: '0',
      LOG_LEVEL: 'error',
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: database.schema,
      WORKLOAD_KEY_FILE: keys.keyFile('audit'),
      WORKLOAD_TRUST_DIR: keys.trustDir,
      KAFKA_BROKERS: kafkaBroker.brokers,
    },
  });
}

/** A failed sign-in as identity publishes it, created now (its `time` starts the lag clock). */
function signInFailure(): { key: string; value: string } {
  const accountId = randomUUID();
  const event = createEvent('identity', LoginEvents.failed, {
    subject: accountId,
    tenant: 'default',
    data: {
      accountId,
      reason: 'bad-password',
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
    },
  });
  return { key: event.subject, value: JSON.stringify(event) };
}

async function send(target: Producer, count: number): Promise<void> {
  await target.sendBatch({
    acks: -1,
    compression: CompressionTypes.None,
    topicMessages: [
      {
        topic: LoginEvents.failed.topic.name,
        messages: Array.from({ length: count }, () => ({
          ...signInFailure(),
          headers: { 'content-type': 'application/cloudevents+json' },
        })),
      },
    ],
  });
}

/** Where the cores went between two samples: this process (producer, service, poller), PostgreSQL, Kafka. */
function cores(from: CpuSample | undefined, to: CpuSample | undefined): string {
  if (!from || !to) return '-';
  const used = coresUsed(from, to);
  return `${used.node.toFixed(2)} / ${used.postgres.toFixed(2)} / ${used.kafka.toFixed(2)} / ${used.other.toFixed(2)}`;
}

async function recordedLoginEvents(service: RunningService): Promise<number> {
  const [{ n }] = await service.dataSource!.query<[{ n: number }]>(
    `SELECT count(*)::int AS n FROM audit_records WHERE event_type = $1`,
    [LoginEvents.failed.type],
  );
  return n;
}

async function waitUntilRecorded(service: RunningService, total: number): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while ((await recordedLoginEvents(service)) < total) {
    if (Date.now() > deadline) throw new Error(`fewer than ${total} events recorded in time`);
    await sleep(POLL_MS);
  }
}

let service: RunningService | undefined;
try {
  // The service creates its topics at start; started once and stopped, so the drain phase
  // begins with the topic full and nobody consuming it.
  service = await startAudit();
  await service.stop();
  service = undefined;

  for (let sent = 0; sent < EVENTS; sent += SEND_BATCH) {
    await send(producer, Math.min(SEND_BATCH, EVENTS - sent));
  }
  const drainCpu = sampleCpu();
  const drainStarted = performance.now();
  service = await startAudit();
  await waitUntilRecorded(service, EVENTS);
  const drainSeconds = (performance.now() - drainStarted) / 1_000;
  const drainCores = cores(drainCpu, sampleCpu());

  // Rate: a producer on a 10 ms schedule, a poller noting when each record is first committed.
  const lagMs: number[] = [];
  let lastSequence = await service
    .dataSource!.query<[{ s: string | null }]>(`SELECT max(sequence) AS s FROM audit_records`)
    .then(([row]) => Number(row.s ?? 0));
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const rows = await service.dataSource!.query<{ sequence: string; occurred_at: Date }[]>(
        `SELECT sequence, occurred_at FROM audit_records WHERE sequence > $1 AND event_type = $2
          ORDER BY sequence`,
        [lastSequence, LoginEvents.failed.type],
      );
      const seen = Date.now();
      for (const row of rows) {
        lagMs.push(seen - row.occurred_at.getTime());
        lastSequence = Math.max(lastSequence, Number(row.sequence));
      }
      await sleep(POLL_MS);
    }
  })();
  const rateCpu = sampleCpu();
  const rateStarted = performance.now();
  let sent = 0;
  let maxBehindMs = 0;
  const total = RATE * SECONDS;
  while (sent < total) {
    const elapsed = performance.now() - rateStarted;
    const due = Math.min(total, Math.floor((elapsed / 1_000) * RATE));
    if (due > sent) {
      const count = due - sent;
      maxBehindMs = Math.max(maxBehindMs, (count / RATE) * 1_000);
      await send(producer, count);
      sent = due;
    }
    await sleep(10);
  }
  await waitUntilRecorded(service, EVENTS + total);
  await sleep(POLL_MS * 3);
  polling = false;
  await poller;
  const rateSeconds = (performance.now() - rateStarted) / 1_000;
  const rateCores = cores(rateCpu, sampleCpu());
  const lag = summarize(Float64Array.from(lagMs));

  process.stdout.write(
    `\nAudit ingest from Kafka: ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ` +
      `Node ${process.version}, PostgreSQL from ${postgres.source} ` +
      `(${DURABLE ? 'fsync and synchronous commit on' : 'fsync off'}), Kafka from ${kafkaBroker.source}\n\n` +
      table([
        [
          'phase',
          'events',
          'seconds',
          'events/s',
          'lag p50 ms',
          'lag p99 ms',
          'lag max ms',
          'cores node/pg/kafka/other',
        ],
        [
          'drain (topic full, then start)',
          EVENTS.toLocaleString('en'),
          drainSeconds.toFixed(1),
          Math.round(EVENTS / drainSeconds).toLocaleString('en'),
          '-',
          '-',
          '-',
          drainCores,
        ],
        [
          `rate ${RATE.toLocaleString('en')}/s`,
          total.toLocaleString('en'),
          rateSeconds.toFixed(1),
          Math.round(total / rateSeconds).toLocaleString('en'),
          lag.p50.toFixed(0),
          lag.p99.toFixed(0),
          lag.max.toFixed(0),
          rateCores,
        ],
      ]) +
      `\n\nlag samples ${lag.count.toLocaleString('en')}; the producer's largest catch-up send ` +
      `${maxBehindMs.toFixed(0)} ms of events; cores: average over the phase, node = this process ` +
      `(producer, audit service, poller), other = the rest of the machine (should be near 0)\n`,
  );
} finally {
  await service?.stop();
  await producer.disconnect();
  await database.drop();
  await kafkaBroker.stop();
  await postgres.stop();
}
