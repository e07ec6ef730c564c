/**
 * Local envelope encryption throughput against raw AES-256-GCM from node:crypto, in the same
 * process, for a few record sizes. The envelope client talks to the real key-management service
 * (real PostgreSQL, workload assertions), but with a warm data-key cache the measured loop never
 * leaves the process: this measures what the envelope adds on top of the cipher (cache lookup,
 * header, AAD, one allocation). Not a test: run with `npx nx run bench:envelope`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyManagementService } from '@rampart/key-management';
import { EnvelopeEncryption, KmsClient, loadWorkloadSigner, startService } from '@rampart/platform';
import { createTestDatabase, createTestWorkloadKeys } from '@rampart/platform/testing-support';
import { startTestPostgres } from '@rampart/testing';
import { table } from './stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SIZES = (process.env['BENCH_SIZES'] ?? '1024,65536,1048576').split(',').map(Number);

/** Runs `operation` back to back for SECONDS; bytes per second of plaintext. */
async function throughput(recordBytes: number, operation: () => unknown): Promise<number> {
  let records = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1_000;
  // Checking the clock every record would cost more than a small record's encryption.
  const batch = Math.max(1, Math.floor((64 * 1024) / recordBytes));
  while (performance.now() < deadline) {
    for (let index = 0; index < batch; index += 1) await operation();
    records += batch;
  }
  return (records * recordBytes) / ((performance.now() - started) / 1_000);
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

const postgres = await startTestPostgres();
process.env['RAMPART_TEST_DATABASE_URL'] = postgres.adminUrl;
const database = await createTestDatabase('key_management');
const keys = await createTestWorkloadKeys(['key-management', 'consent']);
const rootKeyFile = join(await mkdtemp(join(tmpdir(), 'rampart-envelope-bench-')), 'root.key');
await writeFile(rootKeyFile, randomBytes(32), { mode: 0o600 });
const service = await startService(keyManagementService, {
  env: {
    PORT: '0',
    LOG_LEVEL: 'error',
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: database.schema,
    WORKLOAD_KEY_FILE: keys.keyFile('key-management'),
    WORKLOAD_TRUST_DIR: keys.trustDir,
    KMS_ROOT_KEY_FILE: rootKeyFile,
  },
});
const kms = new KmsClient({
  baseUrl: service.url,
  signer: await loadWorkloadSigner('consent', keys.keyFile('consent')),
});
const envelopes = new EnvelopeEncryption({ kms, defaultKey: 'bench' });
try {
  await kms.createKey('bench');
  const context = { table: 'documents', tenant: 'bench' };
  const rawKey = randomBytes(32);
  const rawAad = Buffer.from(JSON.stringify(context));
  const rows: string[][] = [];
  const results: Record<string, number>[] = [];
  const gbps = (bytesPerSecond: number) => (bytesPerSecond / 1e9).toFixed(3);
  for (const size of SIZES) {
    const record = randomBytes(size);
    const envelope = await envelopes.encrypt(record, { category: 'internal', context });
    const sealed = rawSeal(rawKey, record, rawAad);
    const best = { raw: 0, envelope: 0, rawOpen: 0, envelopeOpen: 0 };
    // Interleaved rounds, best of each: both sides see the same machine noise.
    for (let round = 0; round < ROUNDS; round += 1) {
      best.raw = Math.max(best.raw, await throughput(size, () => rawSeal(rawKey, record, rawAad)));
      best.envelope = Math.max(
        best.envelope,
        await throughput(size, () => envelopes.encrypt(record, { category: 'internal', context })),
      );
      best.rawOpen = Math.max(
        best.rawOpen,
        await throughput(size, () => rawOpen(rawKey, sealed, rawAad)),
      );
      best.envelopeOpen = Math.max(
        best.envelopeOpen,
        await throughput(size, () => envelopes.decrypt(envelope, context)),
      );
    }
    results.push({ size, ...best });
    rows.push(
      [`encrypt ${size} B`, gbps(best.raw), gbps(best.envelope), pct(best.envelope / best.raw)],
      [
        `decrypt ${size} B`,
        gbps(best.rawOpen),
        gbps(best.envelopeOpen),
        pct(best.envelopeOpen / best.rawOpen),
      ],
    );
  }
  process.stdout.write(
    `\nEnvelope encryption vs raw AES-256-GCM, warm cache, best of ${ROUNDS} x ${SECONDS} s\n\n` +
      table([['operation', 'raw GB/s', 'envelope GB/s', 'envelope/raw'], ...rows]) +
      `\nBENCH_RESULT ${JSON.stringify({ node: process.version, seconds: SECONDS, rounds: ROUNDS, results })}\n`,
  );
} finally {
  envelopes.close();
  await kms.close();
  await service.stop();
  await database.drop();
  await postgres.stop();
}
process.exit(0);

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}
