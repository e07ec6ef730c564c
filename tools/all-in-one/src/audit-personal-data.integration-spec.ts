import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { auditService, verifyChain } from '@rampart/audit';
import {
  AccountEvents,
  LoginEvents,
  type CloudEventEnvelope,
  type EventDefinition,
} from '@rampart/contracts';
import {
  createEvent,
  KmsClient,
  loadWorkloadSigner,
  outboxChannel,
  startService,
  type RunningService,
} from '@rampart/platform';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  startTestTokenIssuer,
  type TestDatabase,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import {
  startKeyManagement,
  type KeyManagementUnderTest,
} from './testing/key-management-under-test.js';

interface StoredRow {
  sequence: string;
  subject: string;
  record: string;
}

interface EventsAnswer {
  events: {
    sequence: number;
    record: Record<string, unknown>;
    details?: Record<string, unknown>;
  }[];
}

/**
 * Personal data in the audit log with the real key-management service (ADR 0024): identifiers
 * stored as pseudonyms, a person's details sealed under their own key, queries by the raw
 * identifiers, erasure by shredding that key while the chain still verifies, and ingestion that
 * waits out a KMS that does not answer. (A launcher test: only launchers start two services.)
 */
describe('audit personal data: pseudonyms and per-person keys in key-management', () => {
  let auditDatabase: TestDatabase;
  let issuer: TestTokenIssuer;
  let kms: KeyManagementUnderTest;
  let audit: RunningService;
  let identityKms: KmsClient;
  let proxy: Server;
  /** While true, the way from audit to key-management answers 503 to everything. */
  let kmsDown = false;

  beforeAll(async () => {
    auditDatabase = await createTestDatabase('audit');
    issuer = await startTestTokenIssuer();
    const keys = await createTestWorkloadKeys(['key-management', 'audit', 'identity']);
    kms = await startKeyManagement(keys);
    // Audit reaches key-management through this switchable pass-through, to take it away.
    const upstream = new URL(kms.service.url);
    proxy = createServer((incoming, answer) => {
      if (kmsDown) {
        incoming.resume();
        answer.writeHead(503).end();
        return;
      }
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (reply) => {
          answer.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(answer);
        },
      );
      forwarded.on('error', () => answer.writeHead(502).end());
      incoming.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyPort = (proxy.address() as AddressInfo).port;
    audit = await startService(auditService, {
      env: {
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: auditDatabase.url,
        DATABASE_SCHEMA: auditDatabase.schema,
        WORKLOAD_KEY_FILE: keys.keyFile('audit'),
        WORKLOAD_TRUST_DIR: keys.trustDir,
        AUDIT_KMS_URL: `http://127.0.0.1:${proxyPort}`,
        ...issuer.env(),
      },
    });
    // Identity is who erases a person: it shreds their key at key-management.
    identityKms = new KmsClient({
      baseUrl: kms.service.url,
      signer: await loadWorkloadSigner('identity', keys.keyFile('identity')),
    });
  }, 60_000);

  afterAll(async () => {
    await identityKms?.close();
    await audit?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
    await kms?.stop();
    await issuer?.close();
    await auditDatabase?.drop();
  });

  const rows = () =>
    audit.dataSource!.query<StoredRow[]>(
      `SELECT sequence, subject, record FROM audit_records ORDER BY sequence`,
    );

  /** Hands events to the audit service's own consumer, as its transport would. */
  const deliver = (events: { event: CloudEventEnvelope; definition: EventDefinition }[]) =>
    audit.messaging!.transport.publish(
      events.map(({ event, definition }) => ({
        topic: definition.topic.name,
        key: event.subject,
        value: JSON.stringify(event),
        headers: {},
      })),
    );

  const identityEvent = <D extends EventDefinition>(
    definition: D,
    subject: string,
    data: unknown,
  ) => ({
    definition,
    event: createEvent('identity', definition, { subject, tenant: 'default', data } as never),
  });

  const query = async (parameters: Record<string, string>): Promise<EventsAnswer> => {
    const token = await issuer.mint({
      sub: 'auditor-1',
      audience: 'urn:rampart:audit',
      scope: 'audit:read',
    });
    const response = await fetch(
      `${audit.url}/audit/v1/events?${new URLSearchParams(parameters).toString()}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(response.status).toBe(200);
    return (await response.json()) as EventsAnswer;
  };

  const verify = async () => {
    const token = await issuer.mint({
      sub: 'auditor-1',
      audience: 'urn:rampart:audit',
      scope: 'audit:read',
    });
    const response = await fetch(`${audit.url}/audit/v1/verify`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return (await response.json()) as { valid: boolean; records: number };
  };

  it('stores pseudonyms and sealed details, finds them by the raw identifiers, and shows erasure without breaking the chain', async () => {
    const accountId = randomUUID();
    const other = randomUUID();
    const signIn = identityEvent(LoginEvents.succeeded, accountId, {
      accountId,
      ip: '198.51.100.23',
      userAgent: 'Firefox/140 (pd-test)',
    });
    const registered = identityEvent(AccountEvents.registered, accountId, {
      accountId,
      username: 'grace-pd',
      emailDomain: 'example.org',
    });
    const bystander = identityEvent(AccountEvents.passwordChanged, other, { accountId: other });
    await deliver([signIn, registered, bystander]);

    const stored = (await rows()).filter((row) =>
      [signIn, registered, bystander].some(({ event }) =>
        row.record.includes(`"uid":"${event.id}"`),
      ),
    );
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      expect(row.subject).toMatch(/^ps_[A-Za-z0-9_-]{32}$/);
      const record = JSON.parse(row.record) as { unmapped: Record<string, unknown> };
      expect(record.unmapped['encrypted_data']).toEqual(expect.any(String));
      expect(record.unmapped['data']).toBeUndefined();
      for (const raw of [
        accountId,
        other,
        '198.51.100.23',
        'Firefox/140',
        'grace-pd',
        'example.org',
      ]) {
        expect(row.record).not.toContain(raw);
      }
    }
    expect(stored[0]!.subject).toBe(stored[1]!.subject);
    expect(stored[2]!.subject).not.toBe(stored[0]!.subject);

    // Found by the raw account id, as actor and as subject, with the details opened.
    const bySubject = await query({ subject: accountId });
    expect(bySubject.events.map((event) => event.sequence)).toEqual(
      stored.slice(0, 2).map((row) => Number(row.sequence)),
    );
    expect(bySubject.events[0]!.details).toEqual({
      data: { accountId, ip: '198.51.100.23', userAgent: 'Firefox/140 (pd-test)' },
      src_endpoint: { ip: '198.51.100.23' },
    });
    expect(bySubject.events[1]!.details).toEqual({
      data: { accountId, username: 'grace-pd', emailDomain: 'example.org' },
    });
    const byActor = await query({ actor: accountId });
    expect(byActor.events.map((event) => event.sequence)).toEqual(
      bySubject.events.map((event) => event.sequence),
    );

    // The query itself is audited naming the pseudonym it compared, never the raw id.
    const asked = async () =>
      (await query({ subject: 'user:auditor-1' })).events.find(
        (event) =>
          (event.details?.['data'] as { filters?: unknown } | undefined)?.filters !== undefined &&
          JSON.stringify(event.details).includes('"subject"'),
      );
    let audited = await asked();
    for (let tries = 0; !audited && tries < 50; tries++) {
      await sleep(100);
      audited = await asked();
    }
    expect((audited?.details?.['data'] as { filters: unknown }).filters).toEqual({
      subject: stored[0]!.subject,
    });
    expect((await rows()).some((row) => row.record.includes(accountId))).toBe(false);

    // Erasure: the person's key is destroyed at once; the very next answer says so.
    await identityKms.shredSubject(
      { tenant: 'default', subject: accountId },
      { immediately: true },
    );
    const erased = await query({ subject: accountId });
    expect(erased.events.map((event) => event.details)).toEqual([
      { erased: true },
      { erased: true },
    ]);
    // Someone else's details are untouched.
    const untouched = await query({ subject: other });
    expect(untouched.events[0]!.details).toEqual({ data: { accountId: other } });

    // The chain hashes the sealed form: nothing in it changed, so it still verifies.
    expect(await verify()).toMatchObject({ valid: true });
    expect(await verifyChain(audit.dataSource!)).toMatchObject({ valid: true });

    // An event of the erased person arriving later is stored, its details marked erased.
    const late = identityEvent(AccountEvents.deletionRequested, accountId, { accountId });
    await deliver([late]);
    const afterErasure = await query({ subject: accountId });
    expect(afterErasure.events.map((event) => event.details)).toEqual([
      { erased: true },
      { erased: true },
      { erased: true },
    ]);
  });

  it('holds events back while key-management does not answer, and records them once it does', async () => {
    // A new person: sealing needs a new data key from key-management.
    const accountId = randomUUID();
    const { event, definition } = identityEvent(LoginEvents.succeeded, accountId, {
      accountId,
      ip: '192.0.2.77',
    });
    kmsDown = true;
    try {
      // Through the outbox and its relay, which delivers the batch again after a failure.
      const db = audit.dataSource!;
      await db.query(
        `INSERT INTO outbox (event_id, topic, message_key, payload, headers)
         VALUES ($1, $2, $3, $4, '{}'::jsonb)`,
        [event.id, definition.topic.name, event.subject, JSON.stringify(event)],
      );
      await db.query(`SELECT pg_notify($1, '')`, [outboxChannel(auditDatabase.schema)]);
      await sleep(1_500);
      const recorded = async () =>
        (await rows()).some((row) => row.record.includes(`"uid":"${event.id}"`));
      expect(await recorded()).toBe(false);
      // Not dead-lettered: nothing settled it in the inbox, nothing went to a `.dlq` topic.
      expect(await db.query(`SELECT 1 FROM inbox WHERE event_id = $1`, [event.id])).toEqual([]);
      expect(await db.query(`SELECT 1 FROM outbox WHERE topic LIKE '%.dlq'`)).toEqual([]);

      kmsDown = false;
      const deadline = Date.now() + 30_000;
      while (!(await recorded())) {
        if (Date.now() > deadline)
          throw new Error('the event was not recorded once the KMS answered');
        await sleep(100);
      }
    } finally {
      kmsDown = false;
    }
    const found = await query({ subject: accountId });
    expect(found.events).toHaveLength(1);
    expect(found.events[0]!.details).toEqual({
      data: { accountId, ip: '192.0.2.77' },
      src_endpoint: { ip: '192.0.2.77' },
    });
    expect(await verify()).toMatchObject({ valid: true });
  }, 60_000);
});
