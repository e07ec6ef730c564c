/**
 * The all-in-one platform under load, shared by the benchmarks that drive it over HTTP: started as
 * its own process (`tools/all-in-one/dist/main.js`, as `npm start` runs it), and closed loops that
 * each keep one operation in flight for a fixed time, with latency, CPU and commits per operation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { freePort } from '@rampart/testing';
import { coresUsed, sampleCpu } from './cpu.js';
import { summarize } from './stats.js';

/** A folder for a V8 CPU profile of the platform process (written when it stops). */
const PROFILE_DIR = process.env['BENCH_PROFILE_DIR'];

export interface PhaseResult {
  phase: string;
  ops: number;
  errors: number;
  opsPerSecond: number;
  latencyMs: ReturnType<typeof summarize>;
  /** Average cores busy per process group over the phase. */
  cores: ReturnType<typeof coresUsed> | null;
  /** Core-milliseconds of the whole machine per operation. */
  cpuMsPerOp: number | null;
  /** PostgreSQL transactions committed per operation (each a WAL flush when it wrote). */
  commitsPerOp: number | null;
}

/** The all-in-one platform in a child process, with its gateway URL and bootstrap file. */
export interface Bootstrap {
  adminClient: { client_id: string; client_secret: string };
  initialAccessToken: string;
}

export async function startPlatform(env: Record<string, string> = {}): Promise<{
  child: ChildProcess;
  origin: string;
  bootstrap: Bootstrap;
  /** The embedded PostgreSQL's administrative connection string. */
  databaseUrl: string;
  stop: () => Promise<void>;
}> {
  const home = await mkdtemp(join(tmpdir(), 'rampart-bench-'));
  // The services take the five ports after the gateway's.
  const port = 21_000 + randomInt(0, 400) * 10 + 7;
  const postgresPort = await freePort();
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, 'tools/all-in-one/dist/main.js'], {
    env: {
      ...process.env,
      RAMPART_HOME: home,
      RAMPART_PORT: String(port),
      RAMPART_POSTGRES_PORT: String(postgresPort),
      LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'error',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('[rampart] ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`all-in-one exited (${code}): ${output}`)));
  });
  const bootstrap = JSON.parse(await readFile(join(home, 'bootstrap.json'), 'utf8')) as Bootstrap;
  const secret = (await readFile(join(home, 'secrets/postgres-admin.secret'), 'utf8')).trim();
  return {
    child,
    origin: `http://localhost:${port}`,
    bootstrap,
    databaseUrl: `postgres://postgres:${encodeURIComponent(secret)}@127.0.0.1:${postgresPort}/rampart`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  };
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** What a phase watches besides its own operations: the platform's process and database. */
export interface Watched {
  servicePid?: number;
  database?: pg.Client;
}

/**
 * Runs `operation` in `loops` closed loops for SECONDS; an operation answers whether it
 * succeeded. Latency is per successful operation.
 */
export async function closedLoops(
  seconds: number,

  phase: string,
  loops: number,
  operation: (loop: number) => Promise<boolean>,
  { servicePid, database }: Watched,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  const commitsFrom = await commits(database);
  const cpuFrom = sampleCpu(servicePid);
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        if (await operation(loop)) latencies.push(performance.now() - sent);
        else errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  const cpuTo = sampleCpu(servicePid);
  const commitsTo = await commits(database);
  const cores = cpuFrom && cpuTo ? coresUsed(cpuFrom, cpuTo) : null;
  return {
    phase,
    ops: latencies.length,
    errors,
    opsPerSecond: latencies.length / elapsed,
    latencyMs: summarize(Float64Array.from(latencies)),
    cores,
    cpuMsPerOp:
      cores && latencies.length ? (cores.machine * elapsed * 1_000) / latencies.length : null,
    commitsPerOp:
      commitsFrom !== undefined && commitsTo !== undefined && latencies.length
        ? (commitsTo - commitsFrom) / latencies.length
        : null,
  };
}

/** Transactions committed in the platform's database so far. */
async function commits(database: pg.Client | undefined): Promise<number | undefined> {
  if (!database) return undefined;
  // A fresh snapshot: PostgreSQL otherwise answers from the one the transaction first took.
  await database.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await database.query<{ commits: string }>(
    `SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(rows[0]!.commits);
}
