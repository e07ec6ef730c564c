import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  appendToChain,
  auditService,
  checkpointStore,
  kmsNoteSigner,
  MemoryMerkleTree,
  leafData,
  openCheckpoint,
  rootHash,
  signCheckpointIfDue,
  verifierKey,
  type AuditRecord,
  type CheckpointPolicy,
} from '@rampart/audit';
import {
  createServiceDataSource,
  KmsClient,
  loadWorkloadSigner,
  openAndMigrate,
  startService,
} from '@rampart/platform';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestDatabase,
} from '@rampart/platform/testing-support';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import {
  startKeyManagement,
  type KeyManagementUnderTest,
} from './testing/key-management-under-test.js';

/**
 * The audit log's checkpoints signed by the real key-management service: the Ed25519 key is
 * created in the KMS on first use and the private key never leaves it. (A launcher test, because
 * only launchers may start two services side by side.)
 */
describe('audit checkpoints signed through key-management', () => {
  let auditDatabase: TestDatabase;
  let kms: KeyManagementUnderTest;
  let kmsClient: KmsClient;
  let dataSource: DataSource;
  let keys: Awaited<ReturnType<typeof createTestWorkloadKeys>>;

  const origin = 'rampart.test/audit';
  const policy: CheckpointPolicy = { origin, everyRecords: 5, everySeconds: 60 };

  const record = (): AuditRecord => ({
    class_uid: 6003,
    time: Date.now(),
    target: { uid: 'subject-1', type: 'test' },
    status: 'Success',
    metadata: {
      uid: randomUUID(),
      event_code: 'rampart.audit.test.happened',
      product: { name: 'audit', vendor_name: 'Rampart' },
      logged_time: Date.now(),
    },
  });

  const append = (count: number) =>
    dataSource.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: count }, () => record()),
      ),
    );

  beforeAll(async () => {
    auditDatabase = await createTestDatabase('audit');
    keys = await createTestWorkloadKeys(['key-management', 'audit']);
    kms = await startKeyManagement(keys);
    kmsClient = new KmsClient({
      baseUrl: kms.service.url,
      signer: await loadWorkloadSigner('audit', keys.keyFile('audit')),
    });
    dataSource = createServiceDataSource({
      url: auditDatabase.url,
      schema: auditDatabase.schema,
      migrations: auditService.migrations,
    });
    await openAndMigrate(dataSource);
  });

  afterAll(async () => {
    await kmsClient?.close();
    await dataSource?.destroy();
    await kms?.stop();
    await auditDatabase?.drop();
  });

  it('signs checkpoints with a KMS-held Ed25519 key, every N records or T seconds, once per size', async () => {
    const signer = await kmsNoteSigner(kmsClient, 'audit-checkpoints', origin);
    // The key already exists on the second start: the same key, the same verifier key.
    const again = await kmsNoteSigner(kmsClient, 'audit-checkpoints', origin);
    const logKey = verifierKey(origin, signer.publicKey);
    expect(verifierKey(origin, again.publicKey)).toBe(logKey);

    await append(3);
    const first = await signCheckpointIfDue(dataSource, signer, policy);
    expect(first?.size).toBe(3); // the very first checkpoint is due at once

    await append(2);
    expect(await signCheckpointIfDue(dataSource, signer, policy)).toBeUndefined(); // 2 < 5, < 60 s
    const later = new Date(Date.now() + 61_000);
    const timed = await signCheckpointIfDue(dataSource, signer, policy, { now: later });
    expect(timed?.size).toBe(5);
    expect(await signCheckpointIfDue(dataSource, signer, policy, { now: later })).toBeUndefined();

    await append(6);
    const counted = await signCheckpointIfDue(dataSource, signer, policy, { now: later });
    expect(counted?.size).toBe(11);

    // Each stored note opens with the log's verifier key and names the root an outsider rebuilds.
    const rows = await dataSource.query<
      { sequence: string; previous_hash: Buffer; record: string }[]
    >(`SELECT sequence, previous_hash, record FROM audit_records ORDER BY sequence`);
    const tree = new MemoryMerkleTree();
    for (const row of rows)
      tree.append(leafData(Number(row.sequence), row.previous_hash, row.record));
    const stored = await checkpointStore.readAfter(dataSource, 0, 100);
    expect(stored.map((checkpoint) => checkpoint.size)).toEqual([3, 5, 11]);
    for (const checkpoint of stored) {
      const opened = openCheckpoint(checkpoint.note, logKey);
      expect(opened.origin).toBe(origin);
      expect(opened.size).toBe(checkpoint.size);
      expect(opened.root.equals(rootHash(tree, checkpoint.size))).toBe(true);
      expect(opened.time?.getTime()).toBe(checkpoint.time.getTime());
    }
  });

  it('lets only one of several concurrent signers sign a size', async () => {
    const signer = await kmsNoteSigner(kmsClient, 'audit-checkpoints', origin);
    await append(7);
    const now = new Date(Date.now() + 3_600_000);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => signCheckpointIfDue(dataSource, signer, policy, { now })),
    );
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
  });

  it('runs in the audit service: signs through the KMS and publishes on rampart.audit.checkpoint.v1', async () => {
    const database = await createTestDatabase('audit');
    const issuer = await startTestTokenIssuer();
    const audit = await startService(auditService, {
      env: {
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: database.url,
        DATABASE_SCHEMA: database.schema,
        WORKLOAD_KEY_FILE: keys.keyFile('audit'),
        WORKLOAD_TRUST_DIR: keys.trustDir,
        ...issuer.env(),
        AUDIT_KMS_URL: kms.service.url,
        AUDIT_LOG_ORIGIN: 'service.test/audit',
        AUDIT_CHECKPOINT_KEY: 'audit-service-checkpoints',
        AUDIT_CHECKPOINT_SECONDS: '1',
      },
    });
    try {
      const db = audit.dataSource!;
      // The service audits its own start: the tree grows, and the first checkpoint is due at once.
      const deadline = Date.now() + 15_000;
      let events: { payload: string }[] = [];
      while (Date.now() < deadline) {
        events = await db.query<{ payload: string }[]>(
          `SELECT payload FROM outbox WHERE topic = 'rampart.audit.checkpoint.v1'`,
        );
        if (events.length > 0) break;
        await sleep(100);
      }
      expect(events.length).toBeGreaterThan(0);
      const event = JSON.parse(events[0]!.payload) as {
        type: string;
        data: { size: number; rootHash: string; note: string; verifierKey: string; time: string };
      };
      expect(event.type).toBe('rampart.audit.checkpoint.signed');
      // The verifier key is the KMS key's: its public half, as key-management holds it.
      const signer = await kmsNoteSigner(
        kmsClient,
        'audit-service-checkpoints',
        'service.test/audit',
      );
      expect(event.data.verifierKey).toBe(verifierKey('service.test/audit', signer.publicKey));
      const opened = openCheckpoint(event.data.note, event.data.verifierKey);
      expect(opened.size).toBe(event.data.size);
      expect(opened.root.toString('base64')).toBe(event.data.rootHash);
      const [stored] = await checkpointStore.readAfter(db, 0, 1);
      expect(stored?.note).toBe(event.data.note);
      // The API names the same verifier key beside the latest note.
      const token = await issuer.mint({
        sub: 'auditor',
        audience: 'urn:rampart:audit',
        scope: 'audit:read',
      });
      const latest = await fetch(`${audit.url}/audit/v1/checkpoints/latest`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(latest.status).toBe(200);
      const body = (await latest.json()) as { note: string; verifierKey: string; origin: string };
      expect(body.verifierKey).toBe(event.data.verifierKey);
      expect(body.origin).toBe('service.test/audit');
      expect(openCheckpoint(body.note, body.verifierKey).size).toBeGreaterThanOrEqual(opened.size);
      // And verification checks the stored notes' signatures with the KMS key.
      const verified = await fetch(`${audit.url}/audit/v1/verify`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await verified.json()).toMatchObject({
        valid: true,
        merkle: { valid: true },
        checkpoints: { valid: true, signaturesChecked: true },
      });
    } finally {
      await audit.stop();
      await issuer.close();
      await database.drop();
    }
  });
});
