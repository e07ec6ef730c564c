/**
 * Local envelope encryption throughput against raw AES-256-GCM from node:crypto, in the same
 * process, for a few record sizes. The envelope client talks to the real key-management service
 * (real PostgreSQL, workload assertions), but with a warm data-key cache the measured loop never
 * leaves the process: this measures what the envelope adds on top of the cipher (cache lookup,
 * header, AAD, one allocation). Not a test: run with `npx nx run bench:envelope`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { EnvelopeEncryption, KmsClient } from '@rampart/platform';
import { startBenchKms } from './kms-service.js';
import { table } from './stats.js';

const SLICES = Number(process.env['BENCH_SLICES'] ?? 20);
const SLICE_MS = Number(process.env['BENCH_SLICE_MS'] ?? 250);
const SIZES = (process.env['BENCH_SIZES'] ?? '1024,65536,1048576').split(',').map(Number);

/** Plaintext bytes and seconds of `operation` run back to back for SLICE_MS. */
async function slice(
  recordBytes: number,
  operation: () => unknown,
): Promise<{ bytes: number; seconds: number }> {
  let records = 0;
  const started = performance.now();
  const deadline = started + SLICE_MS;
  // Checking the clock every record would cost more than a small record's encryption.
  const batch = Math.max(1, Math.floor((64 * 1024) / recordBytes));
  while (performance.now() < deadline) {
    for (let index = 0; index < batch; index += 1) await operation();
    records += batch;
  }
  return { bytes: records * recordBytes, seconds: (performance.now() - started) / 1_000 };
}

/**
 * Short slices of each variant in turn, SLICES times, the order rotating: on a shared machine
 * whose load changes by the second, every variant sees the same mix of quiet and busy moments.
 * Reports total bytes over total time per variant, and the median ratio of neighbouring slices.
 */
async function compare(
  recordBytes: number,
  variants: Record<string, () => unknown>,
): Promise<{ gbps: Record<string, number>; sliceRatios: number[][] }> {
  const names = Object.keys(variants);
  const totals = Object.fromEntries(names.map((name) => [name, { bytes: 0, seconds: 0 }]));
  const perSlice: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < SLICES; round += 1) {
    for (let offset = 0; offset < names.length; offset += 1) {
      const name = names[(round + offset) % names.length]!;
      const result = await slice(recordBytes, variants[name]!);
      totals[name]!.bytes += result.bytes;
      totals[name]!.seconds += result.seconds;
      perSlice[name]!.push(result.bytes / result.seconds);
    }
  }
  const gbps = Object.fromEntries(
    names.map((name) => [name, totals[name]!.bytes / totals[name]!.seconds / 1e9]),
  );
  return { gbps, sliceRatios: names.map((name) => perSlice[name]!) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** What a service would write by hand: a fresh iv per record, iv | ciphertext | tag. */
function rawSeal(key: Buffer, record: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  return Buffer.concat([iv, cipher.update(record), cipher.final(), cipher.getAuthTag()]);
}

function rawOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12))
    .setAAD(aad)
    .setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([
    decipher.update(sealed.subarray(12, sealed.length - 16)),
    decipher.final(),
  ]);
}

const { service, signer, stop } = await startBenchKms({ workloads: ['consent'] });
const kms = new KmsClient({
  baseUrl: service.url,
  signer: await signer('consent'),
});
const envelopes = new EnvelopeEncryption({ kms, defaultKey: 'bench' });
try {
  await kms.createKey('bench');
  const context = { table: 'documents', tenant: 'bench' };
  const rawKey = randomBytes(32);
  const rawAad = Buffer.from(JSON.stringify(context));
  const rows: string[][] = [];
  const results: Record<string, number>[] = [];
  const overheads: number[] = [];
  for (const size of SIZES) {
    const record = randomBytes(size);
    const envelope = await envelopes.encrypt(record, { category: 'internal', context });
    overheads.push(envelope.length - size);
    const sealed = rawSeal(rawKey, record, rawAad);
    const { gbps, sliceRatios } = await compare(size, {
      raw: () => rawSeal(rawKey, record, rawAad),
      envelope: () => envelopes.encrypt(record, { category: 'internal', context }),
      rawOpen: () => rawOpen(rawKey, sealed, rawAad),
      envelopeOpen: () => envelopes.decrypt(envelope, context),
    });
    const [raw, sealedSlices, opened, envelopeOpened] = sliceRatios as [
      number[],
      number[],
      number[],
      number[],
    ];
    const encryptRatio = median(sealedSlices.map((value, index) => value / raw[index]!));
    const decryptRatio = median(envelopeOpened.map((value, index) => value / opened[index]!));
    results.push({ size, ...gbps, encryptRatio, decryptRatio });
    const f = (value: number) => value.toFixed(3);
    rows.push(
      [
        `encrypt ${size} B`,
        f(gbps['raw']!),
        f(gbps['envelope']!),
        pct(gbps['envelope']! / gbps['raw']!),
        pct(encryptRatio),
      ],
      [
        `decrypt ${size} B`,
        f(gbps['rawOpen']!),
        f(gbps['envelopeOpen']!),
        pct(gbps['envelopeOpen']! / gbps['rawOpen']!),
        pct(decryptRatio),
      ],
    );
  }
  const [load1] = loadavg();
  process.stdout.write(
    `\nEnvelope encryption vs raw AES-256-GCM, warm cache, ${SLICES} x ${SLICE_MS} ms slices per ` +
      `variant, interleaved (load average at the end: ${load1!.toFixed(1)}, ${cpus().length} CPUs)\n\n` +
      table([
        ['operation', 'raw GB/s', 'envelope GB/s', 'envelope/raw', 'median slice ratio'],
        ...rows,
      ]) +
      `\n\nEnvelope overhead: ${overheads[0]} bytes per record (header with the wrapped data key, iv, tag)\n` +
      `\nBENCH_RESULT ${JSON.stringify({ node: process.version, slices: SLICES, sliceMs: SLICE_MS, load1, results })}\n`,
  );
} finally {
  envelopes.close();
  await kms.close();
  await stop();
}
process.exit(0);

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}
