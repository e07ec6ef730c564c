import type { CatalogueEventType, CloudEventEnvelope } from '@rampart/contracts';
import type { AuditRecord } from '../chain/audit-record.js';

/** The OCSF schema version the records are shaped after. */
export const OCSF_VERSION = '1.3.0';

/** The OCSF classes Rampart's events fall into, with their category. */
export const OCSF_CLASSES = {
  3002: { name: 'Authentication', category_uid: 3, category_name: 'Identity & Access Management' },
  3003: {
    name: 'Authorize Session',
    category_uid: 3,
    category_name: 'Identity & Access Management',
  },
  3004: {
    name: 'Entity Management',
    category_uid: 3,
    category_name: 'Identity & Access Management',
  },
  3006: {
    name: 'Group Management',
    category_uid: 3,
    category_name: 'Identity & Access Management',
  },
  3007: { name: 'User Management', category_uid: 3, category_name: 'Identity & Access Management' },
  6002: { name: 'Application Lifecycle', category_uid: 6, category_name: 'Application Activity' },
  6003: { name: 'API Activity', category_uid: 6, category_name: 'Application Activity' },
} as const;

export type OcsfClassUid = keyof typeof OCSF_CLASSES;

/**
 * The OCSF class of every event in the catalogue. Typed over the closed catalogue, so a new event
 * does not compile until it is placed here. Sign-ins and sign-outs are Authentication; clients and
 * keys Entity Management; accounts and SCIM users User Management; SCIM groups Group Management;
 * sessions and grants Authorize Session; refused protocol and SCIM requests API Activity; a
 * service start Application Lifecycle (as the lifecycle contract promises).
 */
export const EVENT_CLASSES: Readonly<Record<CatalogueEventType, OcsfClassUid>> = {
  'rampart.identity.lifecycle.started': 6002,
  'rampart.authorization.lifecycle.started': 6002,
  'rampart.key-management.lifecycle.started': 6002,
  'rampart.consent.lifecycle.started': 6002,
  'rampart.audit.lifecycle.started': 6002,

  'rampart.identity.login.succeeded': 3002,
  'rampart.identity.login.failed': 3002,
  'rampart.identity.oidc-request.logged-out': 3002,

  'rampart.identity.account.registered': 3007,
  'rampart.identity.account.email-verified': 3007,
  'rampart.identity.account.password-changed': 3007,
  'rampart.identity.account.profile-updated': 3007,
  'rampart.identity.account.deletion-requested': 3007,
  'rampart.identity.scim.user-created': 3007,
  'rampart.identity.scim.user-updated': 3007,
  'rampart.identity.scim.user-deleted': 3007,

  'rampart.identity.scim.group-created': 3006,
  'rampart.identity.scim.group-updated': 3006,
  'rampart.identity.scim.group-deleted': 3006,

  'rampart.identity.session.revoked': 3003,
  'rampart.identity.oidc-grant.revoked': 3003,
  'rampart.identity.oidc-grant.refresh-token-reuse-detected': 3003,

  'rampart.identity.oidc-client.registered': 3004,
  'rampart.identity.oidc-client.updated': 3004,
  'rampart.identity.oidc-client.deleted': 3004,
  'rampart.key-management.key.created': 3004,
  'rampart.key-management.key.rotated': 3004,
  'rampart.key-management.key.updated': 3004,
  'rampart.key-management.key.version-state-changed': 3004,
  'rampart.key-management.key.destruction-scheduled': 3004,
  'rampart.key-management.key.destruction-cancelled': 3004,
  'rampart.key-management.key.version-destroyed': 3004,
  'rampart.key-management.key.accessed': 3004,
  'rampart.key-management.key-policy.updated': 3004,
  'rampart.key-management.shared-object.created': 3004,
  'rampart.key-management.shared-object.shared': 3004,
  'rampart.key-management.shared-object.revoked': 3004,
  'rampart.key-management.token-signing-key.created': 3004,
  'rampart.key-management.token-signing-key.activated': 3004,
  'rampart.key-management.token-signing-key.deactivated': 3004,
  'rampart.key-management.token-signing-key.retired': 3004,

  'rampart.identity.oidc-request.refused': 6003,
  'rampart.identity.scim.request-refused': 6003,
  'rampart.audit.checkpoint.signed': 6003,
  'rampart.audit.query.performed': 6003,
  'rampart.audit.ingest.event-dead-lettered': 6003,
  'rampart.audit.retention.archived': 6003,
  'rampart.audit.retention.pruned': 6003,
  // Never ingested (the stream of the log itself, see ingest.consumer.ts); placed for completeness.
  'rampart.audit.record.appended': 6003,
};

/** For a type outside the catalogue (a newer producer): API Activity. */
export const DEFAULT_CLASS: OcsfClassUid = 6003;

/** OCSF severities a record can carry (`severity_id`, `severity`). */
const SEVERITIES = {
  informational: { severity_id: 1, severity: 'Informational' },
  high: { severity_id: 4, severity: 'High' },
} as const;

/**
 * Events a security team must look at, above Informational: an event the log could not record
 * (dead-lettered) is High, because the log is incomplete until someone looks at why.
 */
const EVENT_SEVERITIES: Readonly<Partial<Record<CatalogueEventType, keyof typeof SEVERITIES>>> = {
  'rampart.audit.ingest.event-dead-lettered': 'high',
};

/**
 * Field names never copied into a record, at any depth. No event carries a secret (the contracts
 * say so and are validated), but the log outlives today's schemas: a field whose name looks like
 * a credential is left out and its path listed in `unmapped.redacted` instead.
 */
const SECRET_NAME =
  /secret|passw(or)?d|passphrase|token|credential|private.?key|api.?key|authorization|cookie/i;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function withoutSecrets(value: unknown, path: string, redacted: string[]): Json {
  if (Array.isArray(value)) {
    return value.map((item, index) => withoutSecrets(item, `${path}[${index}]`, redacted));
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const name = key.toWellFormed();
      if (SECRET_NAME.test(name)) {
        redacted.push(`${path}.${name}`);
        continue;
      }
      copy[name] = withoutSecrets(item, `${path}.${name}`, redacted);
    }
    return copy;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  // A lone surrogate has no canonical JSON form: replaced (U+FFFD), so the event is still audited.
  if (typeof value === 'string') return value.toWellFormed();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

type Fields = Record<string, unknown>;

/**
 * Text for an indexed column as well as the record: PostgreSQL `text` cannot hold U+0000, and
 * canonical JSON cannot hold a lone surrogate; both become U+FFFD rather than fail the event.
 */
const columnText = (value: string): string => value.toWellFormed().replaceAll('\u0000', '\ufffd');
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * Who acted, in OCSF's `actor` shape: the account that signed in or changed its own data, the
 * SCIM client and subject, a key-management caller (user or workload), a service starting.
 */
function actorOf(type: string, data: Fields): Json | undefined {
  if (type.endsWith('.lifecycle.started')) {
    const service = text(data['service']);
    return service ? { app_name: service } : undefined;
  }
  const actor = data['actor'];
  if (typeof actor === 'string') return { user: { uid: actor } };
  if (actor !== null && typeof actor === 'object') {
    const fields = actor as Fields;
    const subject = text(fields['subject']);
    const clientId = text(fields['clientId']);
    return {
      ...(subject ? { user: { uid: subject } } : {}),
      ...(clientId ? { app_uid: clientId } : {}),
    };
  }
  const caller = data['caller'];
  if (typeof caller === 'string') return { user: { uid: caller } };
  if (caller !== null && typeof caller === 'object') {
    const fields = caller as Fields;
    const id = text(fields['id']);
    const clientId = text(fields['clientId']);
    if (fields['kind'] === 'workload' && id) return { app_name: id };
    return {
      ...(id ? { user: { uid: id } } : {}),
      ...(clientId ? { app_uid: clientId } : {}),
    };
  }
  const accountId = text(data['accountId']);
  if (accountId) return { user: { uid: accountId } };
  const clientId = text(data['clientId']);
  return clientId ? { app_uid: clientId } : undefined;
}

/** The outcome: refused and failed events, and key operations that did not succeed, failed. */
function statusOf(
  type: string,
  data: Fields,
): { status: string; status_id: number; detail?: string } {
  const failure = (detail: unknown) => ({
    status: 'Failure',
    status_id: 2,
    ...(typeof detail === 'string' || typeof detail === 'number' ? { detail: String(detail) } : {}),
  });
  if (type === 'rampart.identity.login.failed') return failure(data['reason']);
  if (type === 'rampart.identity.oidc-request.refused') return failure(data['error']);
  if (type === 'rampart.identity.scim.request-refused') return failure(data['status']);
  if (type === 'rampart.audit.ingest.event-dead-lettered') return failure(data['reason']);
  if (type === 'rampart.key-management.key.accessed' && data['outcome'] !== 'ok') {
    return failure(data['outcome']);
  }
  return { status: 'Success', status_id: 1 };
}

/**
 * An event as an OCSF-shaped audit record (docs/architecture/audit.md, "Record format"). The
 * original data is kept under `unmapped.data`, less anything named like a secret.
 */
export function toAuditRecord(event: CloudEventEnvelope, loggedAt: Date): AuditRecord {
  const classUid =
    (EVENT_CLASSES as Readonly<Record<string, OcsfClassUid>>)[event.type] ?? DEFAULT_CLASS;
  const ocsfClass = OCSF_CLASSES[classUid];
  const [, , aggregate = 'unknown', activity = 'unknown'] = event.type.split('.');
  const redacted: string[] = [];
  const data = withoutSecrets(event.data, 'data', redacted);
  const fields: Fields =
    data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {};
  const actor = actorOf(event.type, fields);
  const status = statusOf(event.type, fields);
  const ip = text(fields['ip']);
  const time = Date.parse(event.time);
  return {
    class_uid: classUid,
    class_name: ocsfClass.name,
    category_uid: ocsfClass.category_uid,
    category_name: ocsfClass.category_name,
    activity_id: 99,
    activity_name: activity,
    type_uid: classUid * 100 + 99,
    ...SEVERITIES[
      (EVENT_SEVERITIES as Readonly<Record<string, keyof typeof SEVERITIES>>)[event.type] ??
        'informational'
    ],
    time,
    status: status.status,
    status_id: status.status_id,
    ...(status.detail === undefined ? {} : { status_detail: status.detail }),
    ...(actor === undefined ? {} : { actor }),
    target: { uid: columnText(event.subject), type: aggregate },
    ...(ip ? { src_endpoint: { ip } } : {}),
    metadata: {
      uid: event.id,
      event_code: event.type,
      product: { name: event.source.replace(/^\/rampart\//, ''), vendor_name: 'Rampart' },
      version: OCSF_VERSION,
      logged_time: loggedAt.getTime(),
      tenant_uid: columnText(event.tenant),
    },
    unmapped: {
      source: event.source,
      time: event.time,
      data,
      ...(redacted.length > 0 ? { redacted } : {}),
    },
  };
}
