import type { CatalogueEventType, CloudEventEnvelope } from '@rampart/contracts';
import type { AuditRecord, JsonValue } from '../chain/audit-record.js';
import type { Pseudonyms } from './pseudonyms.js';

/**
 * Events whose subject (`target.uid`) is a person: an account, its sign-ins and sessions, a SCIM
 * user. Other targets name clients, keys, grants, groups, services or queries; a target that is
 * the acting person (a query's asker) is recognised by equality with the actor instead.
 */
const PERSON_TARGETS: ReadonlySet<string> = new Set<CatalogueEventType>([
  'rampart.identity.account.registered',
  'rampart.identity.account.email-verified',
  'rampart.identity.account.password-changed',
  'rampart.identity.account.profile-updated',
  'rampart.identity.account.deletion-requested',
  'rampart.identity.login.succeeded',
  'rampart.identity.login.failed',
  'rampart.identity.session.revoked',
  'rampart.identity.scim.user-created',
  'rampart.identity.scim.user-updated',
  'rampart.identity.scim.user-deleted',
]);

/** `actor.user.uid` values that name a workload, not a person (a query made by a service). */
const WORKLOAD_ACTOR = /^workload:/;
/** The `user:` prefix some events put before an account id (`user:<sub>`). */
const USER_PREFIX = /^user:/;

/** Control characters: the KMS refuses them in subjects (NUL separates tenant and subject). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

export interface DataSubjectOfRecord {
  tenant: string;
  /** The person's identifier as the rest of the platform names them (an account id, a sub). */
  subject: string;
}

/**
 * Seals a record's details under the person's own key; answers undefined when that key is already
 * destroyed (the person was erased before the event reached the log).
 */
export type SealDetails = (
  subject: DataSubjectOfRecord,
  details: Buffer,
) => Promise<Buffer | undefined>;

interface RecordActor {
  user?: { uid?: string };
  [key: string]: unknown;
}

const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

function personActorOf(record: AuditRecord): string | undefined {
  const actor = record['actor'] as RecordActor | undefined;
  const uid = textOf(actor?.user?.uid);
  return uid && !WORKLOAD_ACTOR.test(uid) ? uid : undefined;
}

function targetIsPerson(event: CloudEventEnvelope, record: AuditRecord, actor?: string): boolean {
  if (record.target.uid === actor) return true;
  if (!PERSON_TARGETS.has(event.type)) return false;
  // A sign-in with a username nobody has is keyed `unknown`: no person to name.
  return (
    !event.type.startsWith('rampart.identity.login.') ||
    textOf(dataField(event, 'accountId')) !== undefined
  );
}

function dataField(event: CloudEventEnvelope, name: string): unknown {
  const data = event.data;
  return data !== null && typeof data === 'object' && !Array.isArray(data)
    ? (data as Record<string, unknown>)[name]
    : undefined;
}

/**
 * The person whose key seals the record's details: the target when it is a person, else the
 * account the event names (a revoked grant, a sign-out), else the person who acted. None for
 * events about clients, keys and services done by workloads: their details stay readable.
 */
export function dataSubjectOf(event: CloudEventEnvelope, record: AuditRecord): string | undefined {
  const actor = personActorOf(record);
  const subject = targetIsPerson(event, record, actor)
    ? record.target.uid
    : (textOf(dataField(event, 'accountId')) ?? actor);
  return subject?.replace(USER_PREFIX, '').replace(CONTROL, '\ufffd');
}

/**
 * The record as it is stored (ADR 0024): the acting person's uid and a person target replaced by
 * their pseudonyms, and, when the event concerns a person, its details (`unmapped.data`, and the
 * source IP with it) sealed under that person's key as `unmapped.encrypted_data` (base64), or
 * `unmapped.data_erased: true` if the person is already erased. `unmapped.pseudonym_key` names the
 * key of the pseudonyms. The chain hashes this form, so erasing the person's key later leaves the
 * chain valid.
 */
export async function protectRecord(
  record: AuditRecord,
  event: CloudEventEnvelope,
  pseudonyms: Pseudonyms,
  seal: SealDetails,
): Promise<AuditRecord> {
  // The record's tenant: the event's, with a NUL PostgreSQL could not hold replaced.
  const tenant = textOf(record.metadata['tenant_uid']) ?? event.tenant;
  const actor = personActorOf(record);
  const subject = dataSubjectOf(event, record);
  const pseudonymOf = (identifier: string) => pseudonyms.of(tenant, identifier);
  const { src_endpoint: sourceEndpoint, unmapped: original, ...rest } = record;
  const unmapped: Record<string, unknown> = { ...(original as Record<string, unknown>) };
  const stored: AuditRecord = { ...rest, unmapped };
  if (actor !== undefined) {
    const recordActor = record['actor'] as RecordActor;
    stored['actor'] = { ...recordActor, user: { ...recordActor.user, uid: pseudonymOf(actor) } };
  }
  const personTarget = targetIsPerson(event, record, actor);
  if (personTarget) stored.target = { ...record.target, uid: pseudonymOf(record.target.uid) };
  if (actor !== undefined || personTarget) unmapped['pseudonym_key'] = pseudonyms.keyId;
  if (subject === undefined) {
    if (sourceEndpoint !== undefined) stored['src_endpoint'] = sourceEndpoint;
    return stored;
  }
  // The source IP is the person's too: it is sealed with the data, not left beside it.
  const details: SealedDetails = {
    data: (unmapped['data'] ?? null) as JsonValue,
    ...(sourceEndpoint === undefined ? {} : { src_endpoint: sourceEndpoint as JsonValue }),
  };
  delete unmapped['data'];
  const sealed = await seal({ tenant, subject }, Buffer.from(JSON.stringify(details), 'utf8'));
  if (sealed) unmapped['encrypted_data'] = sealed.toString('base64');
  else unmapped['data_erased'] = true;
  return stored;
}

/** What `unmapped.encrypted_data` holds once opened. */
export interface SealedDetails {
  data: JsonValue;
  src_endpoint?: JsonValue;
}

/** A record's details as the query shows them: opened, erased, or none sealed. */
export type RecordDetails = SealedDetails | { erased: true };

/**
 * The details of a stored record for an `audit:read` caller: `open` unseals the envelope (undefined
 * when the person's key is destroyed). Undefined for records whose details were never sealed.
 */
export async function detailsOf(
  record: Record<string, unknown>,
  open: (envelope: Buffer) => Promise<Buffer | undefined>,
): Promise<RecordDetails | undefined> {
  const unmapped = record['unmapped'] as Record<string, unknown> | undefined;
  if (unmapped?.['data_erased'] === true) return { erased: true };
  const sealed = unmapped?.['encrypted_data'];
  if (typeof sealed !== 'string') return undefined;
  const opened = await open(Buffer.from(sealed, 'base64'));
  return opened ? (JSON.parse(opened.toString('utf8')) as SealedDetails) : { erased: true };
}
