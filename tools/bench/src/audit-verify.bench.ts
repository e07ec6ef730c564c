/**
 * Verifying the audit log from the database: fills an embedded PostgreSQL with BENCH_RECORDS
 * realistic records through the service's own append path (the chain and its Merkle leaves),
 * then times `verifyChain` (links, hashes, canonical form, indexed columns) and `verifyTree`
 * (the Merkle tree rebuilt and every stored subtree row checked), what an auditor's
 * `npx rampart audit verify` pays against the database; then exports the log to an NDJSON file
 * (`GET /audit/v1/export`'s format) and times `verifyExportFile` over it, what
 * `npx rampart audit verify --file` pays. Not a test: run with `npx nx run bench:audit-verify`.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendToChain,
  auditService,
  exportNdjson,
  fileLines,
  verifyChain,
  verifyExportFile,
  verifyTree,
  type AuditRecord,
} from '@rampart/audit';
import { createServiceDataSource, openAndMigrate } from '@rampart/platform';
import { createTestDatabase } from '@rampart/platform/testing-support';
import { startTestPostgres } from '@rampart/testing';
import { table } from './stats.js';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 1_000_000);
/** Records appended per transaction while filling (the ingest consumer's batches are smaller). */
const FILL_BATCH = Number(process.env['BENCH_FILL_BATCH'] ?? 5_000);
const BATCH_SIZES = (process.env['BENCH_BATCH_SIZES'] ?? '1000,10000')
  .split(',')
  .map((size) => Number(size.trim()));

/** A failed sign-in as the ingest mapping records it: about 700 bytes of canonical JSON. */
function signInFailure(now: number): AuditRecord {
  const account = randomUUID();
  return {
    class_uid: 3002,
    class_name: 'Authentication',
    category_uid: 3,
    category_name: 'Identity & Access Management',
    activity_id: 99,
    activity_name: 'failed',
    type_uid: 300299,
    severity_id: 1,
    severity: 'Informational',
    time: now - 5,
    status: 'Failure',
    status_id: 2,
    status_detail: 'invalid-credentials',
    actor: { user: { uid: account } },
    target: { uid: account, type: 'login' },
    src_endpoint: { ip: '203.0.113.7' },
    metadata: {
      uid: randomUUID(),
      event_code: 'rampart.identity.login.failed',
      product: { name: 'identity', vendor_name: 'Rampart' },
      version: '1.3.0',
      logged_time: now,
      tenant_uid: 'default',
    },
    unmapped: {
      source: '/rampart/identity',
      time: new Date(now - 5).toISOString(),
      data: {
        accountId: account,
        ip: '203.0.113.7',
        reason: 'invalid-credentials',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
        clientId: 'portal',
      },
    },
  };
}

const postgres = await startTestPostgres();
process.env['RAMPART_TEST_DATABASE_URL'] = postgres.adminUrl;
const database = await createTestDatabase('audit');
const dataSource = createServiceDataSource({
  url: database.url,
  schema: database.schema,
  migrations: auditService.migrations,
});
await openAndMigrate(dataSource);

try {
  const fillStarted = performance.now();
  for (let filled = 0; filled < RECORDS; filled += FILL_BATCH) {
    const now = Date.now();
    const records = Array.from({ length: Math.min(FILL_BATCH, RECORDS - filled) }, () =>
      signInFailure(now),
    );
    await dataSource.transaction((transaction) => appendToChain(transaction, records));
  }
  const fillSeconds = (performance.now() - fillStarted) / 1_000;
  const [{ bytes }] = await dataSource.query<[{ bytes: string }]>(
    `SELECT pg_total_relation_size('audit_records') AS bytes`,
  );

  const rows: string[][] = [['verification', 'batch', 'seconds', 'records/s']];
  for (const batchSize of BATCH_SIZES) {
    const chainStarted = performance.now();
    const chain = await verifyChain(dataSource, { batchSize });
    const chainSeconds = (performance.now() - chainStarted) / 1_000;
    if (!chain.valid || chain.records !== RECORDS) {
      throw new Error(`chain did not verify: ${JSON.stringify(chain)}`);
    }
    rows.push([
      'chain',
      String(batchSize),
      chainSeconds.toFixed(2),
      Math.round(RECORDS / chainSeconds).toLocaleString('en'),
    ]);
    const treeStarted = performance.now();
    const tree = await verifyTree(dataSource, { batchSize });
    const treeSeconds = (performance.now() - treeStarted) / 1_000;
    if (!tree.merkle.valid) throw new Error(`tree did not verify: ${JSON.stringify(tree)}`);
    rows.push([
      'Merkle tree',
      String(batchSize),
      treeSeconds.toFixed(2),
      Math.round(RECORDS / treeSeconds).toLocaleString('en'),
    ]);
  }

  // The whole log as one export file, then verified from the file alone.
  const folder = await mkdtemp(join(tmpdir(), 'rampart-audit-export-'));
  const file = join(folder, 'export.ndjson');
  const out = createWriteStream(file);
  for (let after = 0; ;) {
    const page = await exportNdjson(dataSource, { after, limit: 10_000 });
    if (page.records === 0 || page.last === undefined) break;
    if (!out.write(page.ndjson))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    after = page.last;
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  const fileBytes = (await stat(file)).size;
  const fileStarted = performance.now();
  const fromFile = await verifyExportFile(fileLines(file));
  const fileSeconds = (performance.now() - fileStarted) / 1_000;
  await rm(folder, { recursive: true, force: true });
  rows.push([
    `export file (${(fileBytes / 2 ** 20).toFixed(0)} MiB)${fromFile.chain.valid ? '' : ' INVALID'}`,
    '-',
    fileSeconds.toFixed(2),
    Math.round(RECORDS / fileSeconds).toLocaleString('en'),
  ]);

  process.stdout.write(
    `\nAudit verification: ${RECORDS.toLocaleString('en')} records, ` +
      `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ` +
      `PostgreSQL from ${postgres.source}\n\n` +
      `filled through appendToChain in ${fillSeconds.toFixed(1)} s ` +
      `(${Math.round(RECORDS / fillSeconds).toLocaleString('en')} records/s in transactions of ` +
      `${FILL_BATCH}); audit_records ${(Number(bytes) / 2 ** 20).toFixed(0)} MiB\n\n` +
      table(rows) +
      '\n',
  );
} finally {
  await dataSource.destroy();
  await database.drop();
  await postgres.stop();
}
