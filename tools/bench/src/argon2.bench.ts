/**
 * Password verification throughput of the identity service's PasswordHasher against the raw
 * Argon2id rate of the library it wraps (@node-rs/argon2), at the same parameters, on this
 * machine's cores. The raw side calls the library directly with one loop per core (the most the
 * machine can do); the PasswordHasher side is offered more logins than cores at once, as a busy
 * login endpoint is, so its queue and concurrency cap are part of what is measured. Not a test:
 * run with `npx nx run bench:passwords`.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify, type Options } from '@node-rs/argon2';
import { PasswordHasher } from '@rampart/identity';
import { table } from './stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 12);
const SLICE_MS = Number(process.env['BENCH_SLICE_MS'] ?? 1_500);
const CORES = availableParallelism();
/** Logins in flight at once against PasswordHasher: more than the cores, so its queue is used. */
const CALLERS = Number(process.env['BENCH_CALLERS'] ?? CORES * 4);
const parameters = {
  memoryKib: Number(process.env['IDENTITY_PASSWORD_MEMORY_KIB'] ?? 19_456),
  timeCost: Number(process.env['IDENTITY_PASSWORD_TIME_COST'] ?? 2),
  parallelism: Number(process.env['IDENTITY_PASSWORD_PARALLELISM'] ?? 1),
};
const raw: Options = {
  algorithm: 2, // Argon2id (the typings' enum is const-only)
  memoryCost: parameters.memoryKib,
  timeCost: parameters.timeCost,
  parallelism: parameters.parallelism,
  outputLen: 32,
};

/** Operations per second of `operation` run by `callers` concurrent loops for SLICE_MS. */
async function slice(callers: number, operation: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + SLICE_MS;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        await operation();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1_000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const password = 'correct horse battery staple';
const hasher = await PasswordHasher.create({
  parameters,
  concurrency: CORES,
  maxQueue: CALLERS,
});
const stored = await hasher.hash(password);

const variants: Record<string, { callers: number; run: () => Promise<unknown> }> = {
  'raw hash': { callers: CORES, run: () => argon2Hash(password, raw) },
  'raw verify': { callers: CORES, run: () => argon2Verify(stored, password) },
  'PasswordHasher.verify': { callers: CALLERS, run: () => hasher.verify(stored, password) },
  'PasswordHasher.verifyOrDecoy (unknown user)': {
    callers: CALLERS,
    run: () => hasher.verifyOrDecoy(undefined, password),
  },
};
const names = Object.keys(variants);
for (const name of names) await slice(variants[name]!.callers, variants[name]!.run); // warm-up

// Short slices of each variant in turn, the order rotating, so that every variant sees the same
// mix of quiet and busy moments on a shared machine.
const perSlice: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round += 1) {
  for (let offset = 0; offset < names.length; offset += 1) {
    const name = names[(round + offset) % names.length]!;
    perSlice[name]!.push(await slice(variants[name]!.callers, variants[name]!.run));
  }
}

const rate = (name: string) => median(perSlice[name]!);
const rawVerify = rate('raw verify');
const wrapped = rate('PasswordHasher.verify');
const sliceRatios = perSlice['PasswordHasher.verify']!.map(
  (value, index) => value / perSlice['raw verify']![index]!,
);
const [load1] = loadavg();
const f = (value: number) => value.toFixed(1);
process.stdout.write(
  `\nArgon2id m=${parameters.memoryKib} KiB, t=${parameters.timeCost}, p=${parameters.parallelism}; ` +
    `${CORES} cores (${cpus()[0]?.model ?? 'unknown CPU'}); raw: ${CORES} loops, PasswordHasher: ` +
    `${CALLERS} callers; ${ROUNDS} x ${SLICE_MS} ms slices per variant, interleaved; median slice ` +
    `(load average at the end: ${load1!.toFixed(1)})\n\n` +
    table([
      ['operation', 'per second', 'per core'],
      ...names.map((name) => [name, f(rate(name)), f(rate(name) / CORES)]),
    ]) +
    `\n\nPasswordHasher.verify / raw verify: ${((wrapped / rawVerify) * 100).toFixed(1)}% ` +
    `(median of per-round ratios ${(median(sliceRatios) * 100).toFixed(1)}%; target >= 90%)\n` +
    `Keycloak's sizing guide: 15 password logins/s per vCPU; here ${f(wrapped / CORES)} ` +
    `verifications/s per core (${(wrapped / CORES / 15).toFixed(1)}x)\n` +
    `\nBENCH_RESULT ${JSON.stringify({
      node: process.version,
      cores: CORES,
      callers: CALLERS,
      parameters,
      rounds: ROUNDS,
      sliceMs: SLICE_MS,
      load1,
      perSecond: Object.fromEntries(names.map((name) => [name, rate(name)])),
      ratio: wrapped / rawVerify,
    })}\n`,
);
process.exit(0);
