/**
 * What the gateway costs: the same request sent to identity directly (its own port) and through
 * the gateway (security headers, CSP, request id, traceparent, rate limits, body rules, proxying
 * over undici), by closed
 * loops for BENCH_SECONDS each, alternating BENCH_ROUNDS times so both see the same machine. The
 * request is `GET /.well-known/openid-configuration`: a cheap answer, so the gateway's share is
 * as large as it gets. Throughput with BENCH_CONNECTIONS loops (the machine saturated); latency
 * with one loop, so the added median is the gateway's own time, not queueing behind other
 * requests (all-in-one runs the gateway and identity in one process). The target:
 * gateway throughput at least 0.8 of direct, and at most 0.5 ms added at the median.
 * Not a test: run with `npx nx run bench:gateway`.
 */
import { cpus, loadavg } from 'node:os';
import { Pool } from 'undici';
import { closedLoops, startPlatform, type PhaseResult } from './all-in-one-under-load.js';
import { table } from './stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const PATH = process.env['BENCH_PATH'] ?? '/.well-known/openid-configuration';

// Every security feature on, the rate limiter included (in-memory store, as in all-in-one), with
// quotas above what the loops send: the limiter's cost is measured, its refusals are not.
const QUOTA = process.env['BENCH_RATE_LIMIT'] ?? '9000000/1m';
const platform = await startPlatform({
  GATEWAY_RATE_LIMIT_DEFAULT: QUOTA,
  GATEWAY_RATE_LIMIT_BEARER: QUOTA,
});
try {
  const gateway = new URL(platform.origin);
  // All-in-one puts identity on the port after the gateway's (README, "Services").
  const direct = new URL(platform.origin);
  direct.port = String(Number(gateway.port) + 1);

  const load = (origin: URL) => {
    const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
    const operation = async () => {
      const response = await pool.request({ method: 'GET', path: PATH });
      await response.body.dump();
      return response.statusCode === 200;
    };
    return { pool, operation };
  };
  const targets = { direct: load(direct), gateway: load(gateway) };
  const watched = { servicePid: platform.child.pid };
  await closedLoops(3, 'warm-up', CONNECTIONS, targets.gateway.operation, watched);
  await closedLoops(3, 'warm-up', CONNECTIONS, targets.direct.operation, watched);

  type Target = 'direct' | 'gateway';
  const saturated: Record<Target, PhaseResult[]> = { direct: [], gateway: [] };
  const single: Record<Target, PhaseResult[]> = { direct: [], gateway: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const name of ['direct', 'gateway'] as const) {
      const { operation } = targets[name];
      saturated[name].push(await closedLoops(SECONDS, name, CONNECTIONS, operation, watched));
      single[name].push(await closedLoops(SECONDS, name, 1, operation, watched));
    }
  }
  await Promise.all([targets.direct.pool.close(), targets.gateway.pool.close()]);

  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const summary = (name: Target) => ({
    perSecond: mean(saturated[name].map((result) => result.opsPerSecond)),
    p99: mean(saturated[name].map((result) => result.latencyMs.p99)),
    singleP50: mean(single[name].map((result) => result.latencyMs.p50)),
    singleP99: mean(single[name].map((result) => result.latencyMs.p99)),
    errors: [...saturated[name], ...single[name]].reduce((sum, result) => sum + result.errors, 0),
  });
  const directSummary = summary('direct');
  const gatewaySummary = summary('gateway');
  const rows = [
    [
      'path',
      `requests/s (${CONNECTIONS} loops)`,
      'p99 ms',
      'p50 ms (1 loop)',
      'p99 ms (1 loop)',
      'errors',
    ],
  ];
  for (const [name, value] of [
    ['direct to identity', directSummary],
    ['through the gateway', gatewaySummary],
  ] as const) {
    rows.push([
      name,
      value.perSecond.toFixed(0),
      value.p99.toFixed(2),
      value.singleP50.toFixed(3),
      value.singleP99.toFixed(3),
      String(value.errors),
    ]);
  }
  process.stdout.write(
    `\nGateway overhead: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ` +
      `load average ${loadavg()
        .map((value) => value.toFixed(1))
        .join(' ')}; GET ${PATH}, ${CONNECTIONS} loops, ` +
      `${ROUNDS} x ${SECONDS} s each way, alternating\n\n` +
      table(rows) +
      `\n\nthroughput ratio (gateway / direct) ${(gatewaySummary.perSecond / directSummary.perSecond).toFixed(2)} ` +
      `(target >= 0.8); added p50 ${(gatewaySummary.singleP50 - directSummary.singleP50).toFixed(3)} ms (target < 0.5 ms)\n`,
  );
} finally {
  await platform.stop();
}
