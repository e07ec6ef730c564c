import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuditIngestTopic,
  AuditStreamTopic,
  catalogueTopics,
  KeyEvents,
  LoginEvents,
  ScimEvents,
  type CloudEventEnvelope,
  type EventDefinition,
} from '@rampart/contracts';
import {
  createEvent,
  createLogger,
  createServiceDataSource,
  InboxConsumer,
  loadWorkloadSigner,
  openAndMigrate,
  RetryBatchLaterError,
  type IncomingMessage,
} from '@rampart/platform';
import {
  createTestDatabase,
  createTestWorkloadKeys,
  type TestDatabase,
} from '@rampart/platform/testing-support';
import type { DataSource } from 'typeorm';
import { auditService } from '../audit.service.js';
import { entryHash, GENESIS_HASH } from '../chain/chain-hash.js';
import { auditConfigSchema } from '../config/audit.config.js';
import { PersonalData } from '../personal-data/personal-data.service.js';
import { ingestConsumer } from './ingest.consumer.js';

const logger = createLogger('audit-test', 'silent');
const accountId = '3f1c2a52-7f0e-4d57-9d3b-1b2c3d4e5f60';
const userId = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

let offset = 0;
function message(event: CloudEventEnvelope, definition: EventDefinition): IncomingMessage {
  return {
    topic: definition.topic.name,
    key: event.subject,
    value: JSON.stringify(event),
    headers: {},
    position: `0/${offset++}`,
  };
}

function event<D extends EventDefinition>(definition: D, subject: string, data: unknown) {
  const created = createEvent(definition.topic.service, definition, {
    subject,
    tenant: 'default',
    data,
  } as never);
  return { event: created, message: message(created, definition) };
}

interface Row {
  sequence: string;
  event_id: string;
  event_type: string;
  service: string;
  subject: string;
  record: string;
  previous_hash: Buffer;
  hash: Buffer;
}

describe('ingest: events from the inbox into the chain', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let consumer: InboxConsumer;
  let personalData: PersonalData;

  beforeAll(async () => {
    database = await createTestDatabase('audit');
    dataSource = createServiceDataSource({
      url: database.url,
      schema: database.schema,
      migrations: auditService.migrations,
    });
    await openAndMigrate(dataSource);
    consumer = new InboxConsumer(ingestConsumer, dataSource, database.schema, logger);
    // Without AUDIT_KMS_URL (development): records as mapped. With a KMS, see all-in-one's
    // audit-personal-data.integration-spec.ts.
    const keys = await createTestWorkloadKeys(['audit']);
    const config = auditConfigSchema.parse({
      PORT: '0',
      DATABASE_URL: database.url,
      WORKLOAD_KEY_FILE: keys.keyFile('audit'),
      WORKLOAD_TRUST_DIR: keys.trustDir,
    });
    personalData = new PersonalData(
      config,
      logger,
      dataSource,
      await loadWorkloadSigner('audit', keys.keyFile('audit')),
    );
    personalData.onModuleInit();
  });

  afterAll(async () => {
    await personalData?.onApplicationShutdown();
    await dataSource?.destroy();
    await database?.drop();
  });

  const rows = () => dataSource.query<Row[]>(`SELECT * FROM audit_records ORDER BY sequence`);

  it('subscribes to every topic of the catalogue but the stream of the log itself', () => {
    expect([...consumer.topics].sort()).toEqual(
      catalogueTopics()
        .map((topic) => topic.name)
        .filter((name) => name !== AuditStreamTopic.name)
        .sort(),
    );
    expect(consumer.topics).toContain('rampart.key-management.token-signing-key.v1');
    // Its own query events are audited; its own stream is not (it would loop).
    expect(consumer.topics).toContain('rampart.audit.query.v1');
    expect(consumer.topics).not.toContain('rampart.audit.v1');
  });

  it('appends a batch in order, one record per event, chained and normalised', async () => {
    const batch = [
      event(LoginEvents.failed, accountId, { reason: 'unknown-user', ip: '203.0.113.9' }),
      event(ScimEvents.userCreated, userId, {
        actor: { subject: 'admin-1' },
        userId,
        userName: 'grace',
        active: true,
        passwordSet: true,
      }),
      event(KeyEvents.rotated, 'ring/key', {
        name: 'key',
        keyRing: 'ring',
        purpose: 'ENCRYPT_DECRYPT',
        caller: 'user:admin-1',
        version: 2,
      }),
    ];
    await consumer.handleBatch(
      batch.map((item) => item.message),
      () => Promise.resolve(),
    );
    const found = await rows();
    expect(
      found.map((row) => [Number(row.sequence), row.event_id, row.event_type, row.service]),
    ).toEqual([
      [1, batch[0]!.event.id, 'rampart.identity.login.failed', 'identity'],
      [2, batch[1]!.event.id, 'rampart.identity.scim.user-created', 'identity'],
      [3, batch[2]!.event.id, 'rampart.key-management.key.rotated', 'key-management'],
    ]);
    const records = found.map((row) => JSON.parse(row.record) as Record<string, unknown>);
    expect(records.map((record) => record['class_uid'])).toEqual([3002, 3007, 3004]);
    expect(records[0]).toMatchObject({ status: 'Failure', src_endpoint: { ip: '203.0.113.9' } });
    expect(found[1]!.record).not.toContain('"passwordSet"');
    let previous = GENESIS_HASH;
    for (const [index, row] of found.entries()) {
      expect(row.previous_hash.toString('hex')).toBe(previous);
      expect(row.hash).toEqual(entryHash(index + 1, previous, records[index]));
      previous = row.hash.toString('hex');
    }
  });

  it('records a redelivered batch once, and the next events continue the chain', async () => {
    const before = await rows();
    const repeat = event(LoginEvents.succeeded, accountId, { accountId, ip: '203.0.113.9' });
    await consumer.handleBatch([repeat.message, repeat.message], () => Promise.resolve());
    await consumer.handleBatch([repeat.message], () => Promise.resolve());
    const after = await rows();
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)!.previous_hash).toEqual(before.at(-1)!.hash);
  });

  it('records an event whose subject PostgreSQL text could not hold (U+0000 becomes U+FFFD)', async () => {
    const before = await rows();
    const odd = event(LoginEvents.succeeded, 'nul\u0000subject', {
      accountId,
      ip: '203.0.113.9',
    });
    await consumer.handleBatch([odd.message], () => Promise.resolve());
    const after = await rows();
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({ event_id: odd.event.id, subject: 'nul\ufffdsubject' });
  });

  it('keeps an event out of the chain when the inbox dead-letters it', async () => {
    const before = await rows();
    const bad = event(LoginEvents.succeeded, accountId, { accountId, ip: '203.0.113.9' });
    const tampered = { ...bad.message, value: bad.message.value!.replace('"ip"', '"ipv6"') };
    await consumer.handleBatch([tampered], () => Promise.resolve());
    expect(await rows()).toHaveLength(before.length);
    const dead = await dataSource.query<{ topic: string }[]>(
      `SELECT topic FROM outbox WHERE topic LIKE '%.dlq'`,
    );
    expect(dead).toEqual([{ topic: 'rampart.identity.login.v1.dlq' }]);
  });

  it('raises a High alert for a dead letter, appends it to the chain, and goes on ingesting', async () => {
    const before = await rows();
    const good = event(LoginEvents.succeeded, accountId, { accountId, ip: '203.0.113.9' });
    const bad = event(LoginEvents.failed, accountId, { reason: 'unknown-user', ip: '203.0.113.9' });
    const broken = { ...bad.message, value: bad.message.value!.replace('"reason"', '"cause"') };
    const after = event(LoginEvents.failed, accountId, {
      reason: 'bad-password',
      ip: '203.0.113.9',
    });
    await consumer.handleBatch([good.message, broken, after.message], () => Promise.resolve());

    // The events on either side of the bad one are recorded, in order.
    expect((await rows()).slice(before.length).map((row) => row.event_id)).toEqual([
      good.event.id,
      after.event.id,
    ]);
    // The dead letter and its alert were committed together.
    const [letter] = await dataSource.query<{ headers: Record<string, string> }[]>(
      `SELECT headers FROM outbox WHERE topic = 'rampart.identity.login.v1.dlq' ORDER BY id DESC LIMIT 1`,
    );
    const alerts = await dataSource.query<{ topic: string; payload: string }[]>(
      `SELECT topic, payload FROM outbox WHERE topic = $1`,
      [AuditIngestTopic.name],
    );
    expect(alerts).toHaveLength(2); // this one and the previous test's
    const alert = JSON.parse(alerts.at(-1)!.payload) as CloudEventEnvelope;
    expect(alert).toMatchObject({
      type: 'rampart.audit.ingest.event-dead-lettered',
      subject: 'rampart.identity.login.v1',
      data: {
        consumer: 'audit.ingest',
        topic: 'rampart.identity.login.v1',
        deadLetterTopic: 'rampart.identity.login.v1.dlq',
        position: broken.position,
        attempts: 0,
        reason: letter!.headers['rampart-dlq-reason'],
      },
    });
    expect((alert.data as { reason: string }).reason).toContain('reason');
    expect((alert.data as { messageId: string }).messageId).toMatch(/^raw:[0-9a-f]{64}$/);
    // Nothing of the refused message's content travels in the alert.
    expect(JSON.stringify(alert)).not.toContain('203.0.113.9');

    // Delivered back to the ingest (as the relay does), the alert is a High record of the chain.
    await consumer.handleBatch(
      [
        {
          topic: AuditIngestTopic.name,
          key: alert.subject,
          value: alerts.at(-1)!.payload,
          headers: {},
          position: '0/0',
        },
      ],
      () => Promise.resolve(),
    );
    const recorded = (await rows()).at(-1)!;
    expect(recorded).toMatchObject({
      event_id: alert.id,
      event_type: 'rampart.audit.ingest.event-dead-lettered',
    });
    expect(JSON.parse(recorded.record)).toMatchObject({
      severity_id: 4,
      severity: 'High',
      status: 'Failure',
      status_detail: (alert.data as { reason: string }).reason,
    });
  });

  it('leaves a batch unsettled, neither recorded nor dead-lettered, while the service is not running', async () => {
    // Not started yet, or stopping: nothing to protect the records with.
    await personalData.onApplicationShutdown();
    const before = await rows();
    const early = event(LoginEvents.succeeded, accountId, { accountId, ip: '203.0.113.9' });
    await expect(consumer.handleBatch([early.message], () => Promise.resolve())).rejects.toThrow(
      RetryBatchLaterError,
    );
    expect(await rows()).toEqual(before);
    // Not dead-lettered either: the outbox holds nothing that names it.
    expect(
      await dataSource.query(`SELECT 1 FROM outbox WHERE payload LIKE $1`, [`%${early.event.id}%`]),
    ).toEqual([]);
    expect(
      await dataSource.query(`SELECT 1 FROM inbox WHERE event_id = $1`, [early.event.id]),
    ).toEqual([]);

    // Started (Nest's onModuleInit): the same batch, delivered again, is recorded.
    personalData.onModuleInit();
    await consumer.handleBatch([early.message], () => Promise.resolve());
    expect((await rows()).map((row) => row.event_id)).toEqual([
      ...before.map((row) => row.event_id),
      early.event.id,
    ]);
  });
});
