import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  AccountEvents,
  AuditLifecycle,
  AuditQueryEvents,
  EVENT_CATALOGUE,
  KeyAccessEvents,
  KeyEvents,
  LoginEvents,
  OidcClientEvents,
  OidcGrantEvents,
  OidcRequestEvents,
  ScimEvents,
  SessionEvents,
  type CatalogueEventType,
  type CloudEventEnvelope,
  type EventDefinition,
} from '@rampart/contracts';
import { createEvent } from '@rampart/platform';
import type { AuditRecord } from '../chain/audit-record.js';
import { canonicalJson } from '../chain/chain-hash.js';
import { Pseudonyms } from '../personal-data/pseudonyms.js';
import {
  detailsOf,
  protectRecord,
  type DataSubjectOfRecord,
} from '../personal-data/record-protection.js';
import { EVENT_CLASSES, OCSF_CLASSES, toAuditRecord } from './ocsf-mapping.js';

const loggedAt = new Date('2026-11-28T12:00:01.500Z');
const accountId = '3f1c2a52-7f0e-4d57-9d3b-1b2c3d4e5f60';
const userId = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** A key decrypted by a workload: an event without any person. */
const workloadKeyAccess = () =>
  event(KeyAccessEvents.accessed, 'ring-1', {
    ring: 'ring-1',
    operation: 'decrypt',
    caller: { kind: 'workload', id: 'consent' },
    outcome: 'ok',
    calls: 3,
    firstAt: '2026-11-28T11:59:00.000Z',
    lastAt: '2026-11-28T12:00:00.000Z',
  });

/** The audit service starting: an event without any person. */
const serviceStarted = () =>
  event(AuditLifecycle.started, 'audit', {
    service: 'audit',
    instanceId: 'i-1',
    version: '0.1.0',
    mode: 'distributed',
    transport: 'kafka',
  });

function event<D extends EventDefinition>(
  definition: D,
  subject: string,
  data: unknown,
  source = definition.topic.service,
): CloudEventEnvelope {
  return createEvent(source, definition, { subject, tenant: 'acme', data } as never);
}

describe('OCSF mapping', () => {
  it('places every event of the catalogue in a known class', () => {
    for (const definition of EVENT_CATALOGUE) {
      expect(OCSF_CLASSES[EVENT_CLASSES[definition.type]]).toBeDefined();
    }
    expect(Object.keys(EVENT_CLASSES).sort()).toEqual(
      EVENT_CATALOGUE.map((definition) => definition.type).sort(),
    );
  });

  const expected: [CatalogueEventType, number][] = [
    [LoginEvents.succeeded.type, 3002],
    [OidcRequestEvents.loggedOut.type, 3002],
    [OidcClientEvents.registered.type, 3004],
    [KeyEvents.created.type, 3004],
    [AccountEvents.registered.type, 3007],
    [ScimEvents.userCreated.type, 3007],
    [ScimEvents.groupUpdated.type, 3006],
    [SessionEvents.revoked.type, 3003],
    [OidcGrantEvents.revoked.type, 3003],
    [OidcRequestEvents.refused.type, 6003],
    [ScimEvents.requestRefused.type, 6003],
    [AuditLifecycle.started.type, 6002],
  ];
  it.each(expected)('puts %s in class %d', (type, classUid) => {
    expect(EVENT_CLASSES[type]).toBe(classUid);
  });

  it('maps a failed sign-in: class, time, actor, outcome, source IP, metadata, original data', () => {
    const failed = event(LoginEvents.failed, accountId, {
      accountId,
      reason: 'bad-password',
      ip: '203.0.113.7',
      userAgent: 'curl/8',
    });
    const record = toAuditRecord(failed, loggedAt);
    expect(record).toEqual({
      class_uid: 3002,
      class_name: 'Authentication',
      category_uid: 3,
      category_name: 'Identity & Access Management',
      activity_id: 99,
      activity_name: 'failed',
      type_uid: 300299,
      severity_id: 1,
      severity: 'Informational',
      time: Date.parse(failed.time),
      status: 'Failure',
      status_id: 2,
      status_detail: 'bad-password',
      actor: { user: { uid: accountId } },
      target: { uid: accountId, type: 'login' },
      src_endpoint: { ip: '203.0.113.7' },
      metadata: {
        uid: failed.id,
        event_code: 'rampart.identity.login.failed',
        product: { name: 'identity', vendor_name: 'Rampart' },
        version: '1.3.0',
        logged_time: loggedAt.getTime(),
        tenant_uid: 'acme',
      },
      unmapped: {
        source: '/rampart/identity',
        time: failed.time,
        data: { accountId, reason: 'bad-password', ip: '203.0.113.7', userAgent: 'curl/8' },
      },
    });
  });

  it('names the actor of provisioning, key access and service starts', () => {
    const scim = toAuditRecord(
      event(ScimEvents.userDeleted, userId, {
        actor: { subject: 'admin-7', clientId: 'provisioner' },
        userId,
      }),
      loggedAt,
    );
    expect(scim.actor).toEqual({ user: { uid: 'admin-7' }, app_uid: 'provisioner' });
    expect(scim.status).toBe('Success');

    const access = toAuditRecord(workloadKeyAccess(), loggedAt);
    expect(access.actor).toEqual({ app_name: 'consent' });
    expect(access.status).toBe('Success');

    const started = toAuditRecord(serviceStarted(), loggedAt);
    expect(started.actor).toEqual({ app_name: 'audit' });
    expect(started.src_endpoint).toBeUndefined();
  });

  it('marks refused requests as failures with their reason', () => {
    const refused = toAuditRecord(
      event(ScimEvents.requestRefused, 'scim', {
        method: 'POST',
        path: '/scim/v2/Users',
        status: 409,
        scimType: 'uniqueness',
      }),
      loggedAt,
    );
    expect(refused).toMatchObject({ class_uid: 6003, status: 'Failure', status_detail: '409' });
    expect(refused.actor).toBeUndefined();
  });

  it('never copies a field named like a secret, at any depth, into the record', () => {
    // Outside the contracts on purpose: the mapping must hold even for data no schema checked.
    const forged: CloudEventEnvelope = {
      ...event(LoginEvents.succeeded, accountId, { accountId, ip: '198.51.100.1' }),
      data: {
        accountId,
        ip: '198.51.100.1',
        password: 'hunter2-value',
        clientSecret: 'client-secret-value',
        nested: {
          refresh_token: 'refresh-token-value',
          apiKey: 'api-key-value',
          list: [{ privateKey: 'private-key-value', kept: 'visible' }],
        },
        Authorization: 'Bearer bearer-value',
      },
    };
    const record = toAuditRecord(forged, loggedAt);
    const stored = canonicalJson(record);
    for (const value of [
      'hunter2-value',
      'client-secret-value',
      'refresh-token-value',
      'api-key-value',
      'private-key-value',
      'bearer-value',
    ]) {
      expect(stored).not.toContain(value);
    }
    expect(stored).toContain('visible');
    expect(record.unmapped).toEqual({
      source: '/rampart/identity',
      time: forged.time,
      data: { accountId, ip: '198.51.100.1', nested: { list: [{ kept: 'visible' }] } },
      redacted: [
        'data.password',
        'data.clientSecret',
        'data.nested.refresh_token',
        'data.nested.apiKey',
        'data.nested.list[0].privateKey',
        'data.Authorization',
      ],
    });
  });

  it('leaves out a contract field named like a secret too (SCIM passwordSet)', () => {
    const created = toAuditRecord(
      event(ScimEvents.userCreated, userId, {
        actor: { subject: 'admin-7' },
        userId,
        userName: 'ada',
        active: true,
        passwordSet: true,
      }),
      loggedAt,
    );
    expect(created.unmapped).toMatchObject({
      data: { actor: { subject: 'admin-7' }, userId, userName: 'ada', active: true },
      redacted: ['data.passwordSet'],
    });
  });

  it('keeps an event whose strings JSON canonicalisation would refuse (lone surrogates)', () => {
    const odd: CloudEventEnvelope = {
      ...event(LoginEvents.failed, accountId, { reason: 'unknown-user', ip: '198.51.100.1' }),
      data: { reason: 'unknown-user', ip: '198.51.100.1', userAgent: 'agent \ud800 x' },
    };
    const record = toAuditRecord(odd, loggedAt);
    expect(canonicalJson(record)).toContain('agent \ufffd x');
  });

  it('files an event type outside the catalogue as API Activity', () => {
    const record = toAuditRecord(
      {
        ...event(LoginEvents.succeeded, accountId, { accountId, ip: '198.51.100.1' }),
        type: 'rampart.identity.something.new',
      },
      loggedAt,
    );
    expect(record).toMatchObject({ class_uid: 6003, activity_name: 'new' });
  });
});

describe("OCSF mapping, as stored: identifiers pseudonymised, a person's details sealed", () => {
  const pseudonyms = new Pseudonyms(1, randomBytes(32));
  /** What the sealing was asked for; the "envelope" is a tagged copy, opened by `open` below. */
  const sealing = () => {
    const calls: { subject: DataSubjectOfRecord; details: unknown }[] = [];
    const seal = (subject: DataSubjectOfRecord, details: Buffer) => {
      calls.push({ subject, details: JSON.parse(details.toString('utf8')) });
      return Promise.resolve(Buffer.concat([Buffer.from('sealed:'), details]));
    };
    return { calls, seal };
  };
  const open = (envelope: Buffer) =>
    Promise.resolve(
      envelope.subarray(0, 7).toString() === 'sealed:' ? envelope.subarray(7) : undefined,
    );
  const stored = async (envelope: CloudEventEnvelope) => {
    const { calls, seal } = sealing();
    const record = await protectRecord(
      toAuditRecord(envelope, loggedAt),
      envelope,
      pseudonyms,
      seal,
    );
    return { record, calls, text: canonicalJson(record) };
  };

  it('makes pseudonyms of a keyed HMAC: stable per tenant and identifier, unlinkable without the key', () => {
    const pseudonym = pseudonyms.of('acme', accountId);
    expect(pseudonym).toMatch(/^ps_[A-Za-z0-9_-]{32}$/);
    expect(pseudonyms.of('acme', accountId)).toBe(pseudonym);
    expect(pseudonyms.of('other', accountId)).not.toBe(pseudonym);
    expect(pseudonyms.of('acme', userId)).not.toBe(pseudonym);
    expect(new Pseudonyms(1, randomBytes(32)).of('acme', accountId)).not.toBe(pseudonym);
    // The separator keeps tenant and identifier apart (a tenant never holds NUL: see the mapping).
    expect(pseudonyms.of('ab', 'c')).not.toBe(pseudonyms.of('a', 'bc'));
  });

  it('stores a sign-in with the account pseudonymised and its data and IP sealed under the account', async () => {
    const signIn = event(LoginEvents.failed, accountId, {
      accountId,
      reason: 'bad-password',
      ip: '203.0.113.7',
      userAgent: 'curl/8',
    });
    const { record, calls, text } = await stored(signIn);
    const pseudonym = pseudonyms.of('acme', accountId);
    expect(record['actor']).toEqual({ user: { uid: pseudonym } });
    expect(record.target).toEqual({ uid: pseudonym, type: 'login' });
    expect(record['src_endpoint']).toBeUndefined();
    expect(record['status_detail']).toBe('bad-password');
    expect(calls).toEqual([
      {
        subject: { tenant: 'acme', subject: accountId },
        details: {
          data: { accountId, reason: 'bad-password', ip: '203.0.113.7', userAgent: 'curl/8' },
          src_endpoint: { ip: '203.0.113.7' },
        },
      },
    ]);
    expect(record['unmapped']).toEqual({
      source: '/rampart/identity',
      time: signIn.time,
      pseudonym_key: 1,
      encrypted_data: expect.any(String),
    });
    for (const raw of [accountId, '203.0.113.7', 'curl/8']) expect(text).not.toContain(raw);
    expect(await detailsOf(record, open)).toEqual(calls[0]!.details);
  });

  it('seals SCIM data under the user it is about, and names the provisioner by pseudonym', async () => {
    const created = event(ScimEvents.userCreated, userId, {
      actor: { subject: 'admin-7', clientId: 'provisioner' },
      userId,
      userName: 'grace',
      active: true,
      passwordSet: true,
    });
    const { record, calls, text } = await stored(created);
    expect(record['actor']).toEqual({
      user: { uid: pseudonyms.of('acme', 'admin-7') },
      app_uid: 'provisioner',
    });
    expect(record.target.uid).toBe(pseudonyms.of('acme', userId));
    expect(calls.map((call) => call.subject)).toEqual([{ tenant: 'acme', subject: userId }]);
    for (const raw of [userId, 'admin-7', 'grace']) expect(text).not.toContain(raw);
  });

  it('seals a grant revocation under the account it names, keeping the grant id readable', async () => {
    const revoked = event(OidcGrantEvents.revoked, 'grant-1', {
      grantId: 'grant-1',
      clientId: 'app',
      accountId,
      reason: 'logout',
    });
    const { record, calls, text } = await stored(revoked);
    expect(record.target).toEqual({ uid: 'grant-1', type: 'oidc-grant' });
    expect(calls.map((call) => call.subject.subject)).toEqual([accountId]);
    expect(text).not.toContain(accountId);
  });

  it('treats the asker of a query as its subject: one pseudonym, details under their key', async () => {
    const query = event(
      AuditQueryEvents.performed,
      'user:alice',
      {
        operation: 'query',
        actor: 'user:alice',
        filters: { outcome: 'failure' },
        continued: false,
        limit: 10,
        returned: 0,
      },
      'audit',
    );
    const { record, calls, text } = await stored(query);
    expect(record.target.uid).toBe(pseudonyms.of('acme', 'user:alice'));
    expect(record['actor']).toEqual({ user: { uid: record.target.uid } });
    // The platform names the person `alice` (the token's sub): their erasure shreds this key.
    expect(calls.map((call) => call.subject.subject)).toEqual(['alice']);
    expect(text).not.toContain('alice');
  });

  it('leaves events without a person as mapped: a workload using a key, a service starting', async () => {
    for (const envelope of [workloadKeyAccess(), serviceStarted()]) {
      const { record, calls } = await stored(envelope);
      expect(record).toEqual(toAuditRecord(envelope, loggedAt));
      expect(calls).toEqual([]);
    }
  });

  it('keeps a sign-in by a username nobody has readable: no person is known to seal it for', async () => {
    const unknown = event(LoginEvents.failed, 'unknown', {
      reason: 'unknown-user',
      ip: '203.0.113.9',
    });
    const { record, calls } = await stored(unknown);
    expect(record.target.uid).toBe('unknown');
    expect(record['src_endpoint']).toEqual({ ip: '203.0.113.9' });
    expect(calls).toEqual([]);
  });

  it('marks the details of a person erased before the event arrived, storing none of them', async () => {
    const late = event(AccountEvents.deletionRequested, accountId, { accountId });
    const record: AuditRecord = await protectRecord(
      toAuditRecord(late, loggedAt),
      late,
      pseudonyms,
      () => Promise.resolve(undefined),
    );
    expect(record['unmapped']).toEqual({
      source: '/rampart/identity',
      time: late.time,
      pseudonym_key: 1,
      data_erased: true,
    });
    expect(await detailsOf(record, open)).toEqual({ erased: true });
  });

  it('answers erased for details whose key is gone, and nothing for records without sealed details', async () => {
    const { record } = await stored(event(AccountEvents.passwordChanged, accountId, { accountId }));
    expect(await detailsOf(record, () => Promise.resolve(undefined))).toEqual({ erased: true });
    expect(
      await detailsOf(
        toAuditRecord(event(AccountEvents.passwordChanged, accountId, { accountId }), loggedAt),
        open,
      ),
    ).toBeUndefined();
  });
});
