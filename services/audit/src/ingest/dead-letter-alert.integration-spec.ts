import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditIngestTopic, LoginEvents } from '@rampart/contracts';
import { createEvent } from '@rampart/platform';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import { waitUntil } from '../testing/ingest-reliability.js';

interface Logged {
  event_id: string;
  event_type: string;
  record: string;
}

describe('ingest: a message that fails its schema, through the running service', () => {
  let audit: AuditHarness;

  beforeAll(async () => {
    audit = await startAudit();
  });

  afterAll(async () => {
    await audit?.stop();
  });

  it('is dead-lettered with the reason, raises a High alert in the chain, and ingestion goes on', async () => {
    const event = (reason: string) =>
      createEvent('identity', LoginEvents.failed, {
        subject: 'account-1',
        tenant: 'default',
        data: { reason: reason as 'bad-password', ip: '203.0.113.7' },
      });
    const before = event('bad-password');
    const invalid = { ...event('bad-password'), data: { reason: 'bad-password' } }; // no ip
    const after = event('unknown-user');
    // Straight into the outbox, as a faulty producer's relay would publish it: the outbox API
    // itself refuses invalid events.
    await audit.admin(
      `INSERT INTO outbox (topic, message_key, payload, headers)
       SELECT 'rampart.identity.login.v1', 'account-1', payload, '{}'::jsonb
         FROM unnest($1::text[]) WITH ORDINALITY AS row(payload, position) ORDER BY position`,
      [[before, invalid, after].map((item) => JSON.stringify(item))],
    );

    const logged = () =>
      audit.admin<Logged>(
        `SELECT event_id, event_type, record FROM audit_records WHERE sequence > 1 ORDER BY sequence`,
      );
    await waitUntil(async () => (await logged()).length >= 3, 'the events and the alert');
    const records = await logged();
    expect(records.map((row) => row.event_type)).toEqual([
      'rampart.identity.login.failed',
      'rampart.identity.login.failed',
      'rampart.audit.ingest.event-dead-lettered',
    ]);
    expect(records.slice(0, 2).map((row) => row.event_id)).toEqual([before.id, after.id]);
    expect(records.map((row) => row.event_id)).not.toContain(invalid.id);

    const [letter] = await audit.admin<{ payload: string; headers: Record<string, string> }>(
      `SELECT payload, headers FROM outbox WHERE topic = 'rampart.identity.login.v1.dlq'`,
    );
    expect(JSON.parse(letter!.payload)).toEqual(invalid);
    expect(letter!.headers['rampart-dlq-reason']).toContain('ip');

    const alert = JSON.parse(records[2]!.record) as Record<string, unknown>;
    expect(alert).toMatchObject({
      severity_id: 4,
      severity: 'High',
      status: 'Failure',
      status_detail: letter!.headers['rampart-dlq-reason'],
      target: { uid: 'rampart.identity.login.v1' },
      unmapped: {
        data: {
          consumer: 'audit.ingest',
          topic: 'rampart.identity.login.v1',
          deadLetterTopic: 'rampart.identity.login.v1.dlq',
          attempts: 0,
        },
      },
    });
    // The alert also travelled on its own topic, where an alerting consumer can take it.
    const published = await audit.admin<{ published: boolean }>(
      `SELECT published_at IS NOT NULL AS published FROM outbox WHERE topic = $1`,
      [AuditIngestTopic.name],
    );
    expect(published).toEqual([{ published: true }]);
  });
});
