/**
 * The audit log's Merkle tree at 10 million records: how fast it is built from leaf data (what a
 * verifier re-doing the tree from an export pays per record), then the latency of inclusion and
 * consistency proofs, generated and verified, at random positions. In memory (`MemoryMerkleTree`),
 * one core. Not a test: run with `npx nx run bench:audit-proofs`.
 */
import { randomInt } from 'node:crypto';
import { cpus } from 'node:os';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MemoryMerkleTree,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '@rampart/audit';
import { summarize, table } from './stats.js';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 10_000_000);
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 10_000);
/** A leaf's data: about the size of an audit record's canonical JSON. */
const RECORD_BYTES = Number(process.env['BENCH_RECORD_BYTES'] ?? 400);

const record = Buffer.alloc(RECORD_BYTES, 0x61);
const tree = new MemoryMerkleTree();
const heapBefore = process.memoryUsage().arrayBuffers;
const buildStarted = performance.now();
for (let i = 0; i < RECORDS; i += 1) {
  // A different record each time, as in a real log (the first bytes carry the sequence number).
  record.writeUInt32BE(i, 0);
  tree.appendLeafHash(leafHash(record));
}
const buildSeconds = (performance.now() - buildStarted) / 1_000;
const treeBytes = process.memoryUsage().arrayBuffers - heapBefore;
const root = rootHash(tree);

function timed<T>(operation: () => T): [T, number] {
  const started = performance.now();
  const result = operation();
  return [result, performance.now() - started];
}

const inclusionMs: number[] = [];
const inclusionVerifyMs: number[] = [];
const consistencyMs: number[] = [];
const consistencyVerifyMs: number[] = [];
let failures = 0;
for (let sample = 0; sample < SAMPLES; sample += 1) {
  const index = randomInt(0, RECORDS);
  record.writeUInt32BE(index, 0);
  const leaf = leafHash(record);
  const [proof, generated] = timed(() => inclusionProof(tree, index));
  const [included, verified] = timed(() => verifyInclusion(leaf, index, RECORDS, proof, root));
  inclusionMs.push(generated);
  inclusionVerifyMs.push(verified);
  // A witness holding an older checkpoint asks for proof that today's tree extends it.
  const first = randomInt(1, RECORDS);
  const [firstRoot, firstRootMs] = timed(() => rootHash(tree, first));
  const [consistency, consistencyGenerated] = timed(() => consistencyProof(tree, first));
  const [consistent, consistencyVerified] = timed(() =>
    verifyConsistency(first, RECORDS, consistency, firstRoot, root),
  );
  consistencyMs.push(consistencyGenerated + firstRootMs);
  consistencyVerifyMs.push(consistencyVerified);
  if (!included || !consistent) failures += 1;
}

const row = (name: string, samples: number[]) => {
  const summary = summarize(Float64Array.from(samples));
  const us = (ms: number) => (ms * 1_000).toFixed(1);
  return [name, us(summary.p50), us(summary.p99), us(summary.max)];
};
process.stdout.write(
  `\nAudit Merkle tree: ${RECORDS.toLocaleString('en')} records of ${RECORD_BYTES} bytes, ` +
    `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}\n\n` +
    `built in ${buildSeconds.toFixed(1)} s: ${Math.round(RECORDS / buildSeconds).toLocaleString('en')} records/s ` +
    `(leaf hash + tree), ${(treeBytes / 2 ** 20).toFixed(0)} MiB of node hashes\n\n` +
    table([
      ['operation (random positions)', 'p50 us', 'p99 us', 'max us'],
      row('inclusion proof, generate', inclusionMs),
      row('inclusion proof, verify', inclusionVerifyMs),
      row('consistency proof + old root, generate', consistencyMs),
      row('consistency proof, verify', consistencyVerifyMs),
    ]) +
    `\n\n${SAMPLES} samples each, ${failures} failed verifications\n` +
    `BENCH_RESULT ${JSON.stringify({ records: RECORDS, buildSeconds, treeBytes, failures })}\n`,
);
process.exit(failures === 0 ? 0 : 1);
