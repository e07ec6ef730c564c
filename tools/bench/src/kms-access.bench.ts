/**
 * What key policies and the audit trail add to every key operation, in process: `authorize`
 * (built-in rule, cached ring binding, cached key binding, refusal), `KeyAuditTrail.record`, and
 * `KeyAccess.perform` around an empty operation, on the real key-management service (real
 * PostgreSQL). Then a sustained phase where records reach the outbox at a fixed rate, to measure
 * the CPU the flushes cost. Not a test: run with `npx nx run bench:kms-access`.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { KeyOperation } from '@rampart/contracts';
import { KeyAccess, KeyAuditTrail, KeyPolicies } from '@rampart/key-management';
import type { Principal } from '@rampart/platform';
import { startBenchKms } from './kms-service.js';
import { table } from './stats.js';

const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 1_000_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 16_000);
const RATE_SECONDS = Number(process.env['BENCH_RATE_SECONDS'] ?? 10);
/** Distinct (key, caller) pairs in the sustained phase: each is one event per flush window. */
const DISTINCT = Number(process.env['BENCH_DISTINCT'] ?? 200);

const identity: Principal = { kind: 'workload', id: 'identity' };
const consent: Principal = { kind: 'workload', id: 'consent' };
const reader: Principal = { kind: 'user', id: 'bob', scopes: ['openid', 'orders.read'] };

/** Nanoseconds per call of `body`, the best of three rounds (the machine is shared). */
async function measure(iterations: number, body: (i: number) => unknown) {
  let best = Infinity;
  for (let round = 0; round < 3; round += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) await body(i);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations);
    await yieldToLoop();
  }
  return best;
}

const { service, stop } = await startBenchKms();
try {
  const policies = service.app.get(KeyPolicies);
  const trail = service.app.get(KeyAuditTrail);
  const access = service.app.get(KeyAccess);
  await policies.setPolicy(identity, { ring: 'identity' }, [
    { member: 'workload:consent', operations: ['encrypt', 'decrypt'] },
  ]);
  await policies.setPolicy(identity, { ring: 'identity', key: 'orders' }, [
    { member: 'scope:orders.read', operations: ['decrypt'] },
  ]);
  const target = { ring: 'identity', key: 'orders' };
  const decrypt: KeyOperation = 'decrypt';
  const rows: string[][] = [];
  const add = (name: string, nanoseconds: number) =>
    rows.push([name, (nanoseconds / 1_000).toFixed(2)]);

  add(
    'authorize: ring owner (built-in)',
    await measure(ITERATIONS, () => policies.authorize(identity, decrypt, target)),
  );
  add(
    'authorize: workload, ring binding',
    await measure(ITERATIONS, () => policies.authorize(consent, decrypt, target)),
  );
  add(
    'authorize: user scope, key binding',
    await measure(ITERATIONS, () => policies.authorize(reader, decrypt, target)),
  );
  add(
    'authorize: refused (throws)',
    await measure(ITERATIONS / 10, () =>
      policies.authorize(consent, 'sign', target).catch(() => undefined),
    ),
  );
  add(
    'record: same call again',
    await measure(ITERATIONS, () =>
      trail.record({ ...target, version: 1, operation: decrypt, caller: consent, outcome: 'ok' }),
    ),
  );
  add(
    'perform: capacity + authorize + record',
    await measure(ITERATIONS, () =>
      access.perform(
        consent,
        decrypt,
        target,
        () => Promise.resolve(1),
        () => ({ version: 1 }),
      ),
    ),
  );
  await trail.flush();

  // Sustained: RATE records/s over DISTINCT (key, caller) pairs, written by the trail's own timer.
  const before = await service.dataSource!.query<{ count: string }[]>(
    `SELECT count(*) FROM outbox WHERE payload::jsonb->>'type' = 'rampart.key-management.key.accessed'`,
  );
  const callers: Principal[] = Array.from({ length: 10 }, (_, i) => ({
    kind: 'user',
    id: `user-${i}`,
    scopes: [],
  }));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let recorded = 0;
  let refused = 0;
  while (performance.now() - started < RATE_SECONDS * 1_000) {
    const due = Math.floor(((performance.now() - started) / 1_000) * RATE);
    for (; recorded < due; recorded += 1) {
      try {
        trail.ensureCapacity();
      } catch {
        refused += 1;
      }
      const pair = recorded % DISTINCT;
      trail.record({
        ring: 'identity',
        key: `key-${Math.floor(pair / 10)}`,
        version: 1,
        operation: decrypt,
        caller: callers[pair % 10]!,
        outcome: 'ok',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await trail.flush();
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = (performance.now() - started) / 1_000;
  const after = await service.dataSource!.query<{ count: string; calls: string }[]>(
    `SELECT count(*), sum((payload::jsonb->'data'->>'calls')::int) AS calls FROM outbox
      WHERE payload::jsonb->>'type' = 'rampart.key-management.key.accessed'`,
  );
  const events = Number(after[0]!.count) - Number(before[0]!.count);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(
    `\nKey access control, in process (best of 3 rounds, ${ITERATIONS} calls)\n\n` +
      table([['operation', 'µs/call'], ...rows]) +
      `\nSustained: ${recorded} records in ${elapsed.toFixed(1)} s (${(recorded / elapsed).toFixed(0)}/s) over ${DISTINCT} distinct key/caller pairs\n` +
      `  events written: ${events} (${(events / elapsed).toFixed(0)}/s), calls they account for: ${after[0]!.calls}\n` +
      `  Node CPU for recording and flushing: ${((cpuSeconds / elapsed) * 100).toFixed(1)}% of one core, ${((cpuSeconds * 1e6) / recorded).toFixed(2)} µs per record\n` +
      `  refused by ensureCapacity: ${refused}\n` +
      `\nBENCH_RESULT ${JSON.stringify({ node: process.version, iterations: ITERATIONS, rows, recorded, elapsed, events, cpuSeconds, refused })}\n`,
  );
} finally {
  await stop();
}
process.exit(0);
