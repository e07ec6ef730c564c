/**
 * Key-management HTTP throughput: `:encrypt` and `:decrypt` of 1 KiB, their batch forms, and
 * `:sign` with ES256, through the real service
 * (real PostgreSQL, workload assertions, the full Nest/Fastify stack), driven over keep-alive
 * connections for a fixed time per phase. Not a test: run with `npx nx run bench:kms`.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { WORKLOAD_ASSERTION_HEADER } from '@rampart/platform';
import { startBenchKms } from './kms-service.js';
import { summarize, table } from './stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const PAYLOAD_BYTES = Number(process.env['BENCH_PAYLOAD_BYTES'] ?? 1024);
const BATCH_ITEMS = Number(process.env['BENCH_BATCH_ITEMS'] ?? 500);
const BATCH_CONNECTIONS = Number(process.env['BENCH_BATCH_CONNECTIONS'] ?? 4);

interface PhaseResult {
  phase: string;
  ops: number;
  /** Items per second: ops/s times the items each request carries. */
  itemsPerSecond: number;
  errors: number;
  opsPerSecond: number;
  latencyMs: ReturnType<typeof summarize>;
}

async function runPhase(
  phase: string,
  pool: Pool,
  path: string,
  body: () => string,
  headers: Record<string, string>,
  { items = 1, connections = CONNECTIONS }: { items?: number; connections?: number } = {},
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1_000;
  const started = performance.now();
  // Closed loop: each connection keeps one request in flight until the deadline.
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        const response = await pool.request({ method: 'POST', path, headers, body: body() });
        await response.body.dump();
        if (response.statusCode === 200) latencies.push(performance.now() - sent);
        else errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  return {
    phase,
    ops: latencies.length,
    errors,
    opsPerSecond: latencies.length / elapsed,
    itemsPerSecond: (latencies.length * items) / elapsed,
    latencyMs: summarize(Float64Array.from(latencies)),
  };
}

const kms = await startBenchKms({ workloads: ['identity'], env: { DATABASE_POOL_SIZE: '20' } });
const pool = new Pool(kms.service.url, { connections: CONNECTIONS });
try {
  const signer = await kms.signer('identity');
  const headers = {
    'content-type': 'application/json',
    [WORKLOAD_ASSERTION_HEADER]: await signer.assertionFor('key-management'),
  };
  await pool.request({
    method: 'POST',
    path: '/kms/v1/keys',
    headers,
    body: JSON.stringify({ name: 'bench', purpose: 'ENCRYPT_DECRYPT' }),
  });
  const plaintext = randomBytes(PAYLOAD_BYTES).toString('base64');
  const associatedData = Buffer.from('bench-context').toString('base64');
  const encryptBody = JSON.stringify({ plaintext, associatedData });
  const sample = await pool.request({
    method: 'POST',
    path: '/kms/v1/keys/bench:encrypt',
    headers,
    body: encryptBody,
  });
  const { ciphertext } = (await sample.body.json()) as { ciphertext: string };
  const decryptBody = JSON.stringify({ ciphertext, associatedData });
  const batchEncryptBody = JSON.stringify({
    items: Array.from({ length: BATCH_ITEMS }, () => ({ plaintext, associatedData })),
  });
  const batchDecryptBody = JSON.stringify({
    items: Array.from({ length: BATCH_ITEMS }, () => ({ ciphertext, associatedData })),
  });
  await pool.request({
    method: 'POST',
    path: '/kms/v1/keys',
    headers,
    body: JSON.stringify({ name: 'bench-signer', purpose: 'SIGN_VERIFY', algorithm: 'ES256' }),
  });
  // A JWS signing input of an access token's size.
  const signBody = JSON.stringify({ message: randomBytes(300).toString('base64') });
  const batch = { items: BATCH_ITEMS, connections: BATCH_CONNECTIONS };

  // Warm-up: JIT, connection pools, the unwrapped-key cache.
  await runPhase('warm-up', pool, '/kms/v1/keys/bench:encrypt', () => encryptBody, headers);
  const results = [
    await runPhase('encrypt 1 KiB', pool, '/kms/v1/keys/bench:encrypt', () => encryptBody, headers),
    await runPhase('decrypt 1 KiB', pool, '/kms/v1/keys/bench:decrypt', () => decryptBody, headers),
    await runPhase(
      `batchEncrypt ${BATCH_ITEMS} x 1 KiB`,
      pool,
      '/kms/v1/keys/bench:batchEncrypt',
      () => batchEncryptBody,
      headers,
      batch,
    ),
    await runPhase(
      `batchDecrypt ${BATCH_ITEMS} x 1 KiB`,
      pool,
      '/kms/v1/keys/bench:batchDecrypt',
      () => batchDecryptBody,
      headers,
      batch,
    ),
    await runPhase('sign ES256', pool, '/kms/v1/keys/bench-signer:sign', () => signBody, headers),
  ];
  const f = (value: number) => value.toFixed(1);
  process.stdout.write(
    `\nKey management over HTTP: ${CONNECTIONS} connections, ${SECONDS} s per phase, ${PAYLOAD_BYTES}-byte payloads\n\n` +
      table([
        ['phase', 'requests', 'errors', 'requests/s', 'items/s', 'p50 ms', 'p99 ms', 'max ms'],
        ...results.map((result) => [
          result.phase,
          String(result.ops),
          String(result.errors),
          result.opsPerSecond.toFixed(0),
          result.itemsPerSecond.toFixed(0),
          f(result.latencyMs.p50),
          f(result.latencyMs.p99),
          f(result.latencyMs.max),
        ]),
      ]) +
      `\nBENCH_RESULT ${JSON.stringify({ node: process.version, connections: CONNECTIONS, seconds: SECONDS, results })}\n`,
  );
} finally {
  await pool.close();
  await kms.stop();
}
process.exit(0);
