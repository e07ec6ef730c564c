import { isIP } from 'node:net';
import type { StoredRecord } from '../chain/audit-chain.repository.js';

/**
 * The SD-ID of the element every message carries. `32473` is the example Private Enterprise
 * Number of RFC 5612, a placeholder until Rampart registers its own with IANA.
 */
export const SD_ID = 'rampart@32473';
export const APP_NAME = 'rampart-audit';

/** What MSG holds. */
export type SyslogFormat = 'rfc5424' | 'cef';

export interface SyslogOptions {
  format: SyslogFormat;
  /** RFC 5424 facility code, 0-23. */
  facility: number;
  /** HOSTNAME as sent (see `syslogHostname`). */
  hostname: string;
  /** CEF's Device Version: this service's version. */
  productVersion: string;
}

/** The record fields the formats read; everything else travels only in the JSON. */
interface RecordFields {
  class_uid?: unknown;
  class_name?: unknown;
  severity_id?: unknown;
  status?: unknown;
  status_id?: unknown;
  status_detail?: unknown;
  actor?: { user?: { uid?: unknown } };
  src_endpoint?: { ip?: unknown };
  target?: { uid?: unknown; type?: unknown };
  activity_name?: unknown;
  metadata?: { tenant_uid?: unknown };
}

const NILVALUE = '-';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** OCSF status_id of a failed action. */
const OCSF_FAILURE = 2;

/** OCSF severity_id (1 Informational ... 6 Fatal) to RFC 5424 severity (6 info ... 1 alert). */
const SYSLOG_SEVERITY: Readonly<Record<number, number>> = { 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1 };
/** The same to CEF's 0-10 scale (0-3 low, 4-6 medium, 7-8 high, 9-10 very high). */
const CEF_SEVERITY: Readonly<Record<number, number>> = { 1: 1, 2: 3, 3: 5, 4: 7, 5: 9, 6: 10 };

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value.toWellFormed() : undefined;

/**
 * The syslog severity of a record: from its OCSF severity (Unknown and Other are notice), and a
 * failed action is at least warning, since every record is Informational by severity today and a
 * refused sign-in is what a SIEM's rules look for.
 */
export function syslogSeverity(record: RecordFields): number {
  const bySeverity =
    typeof record.severity_id === 'number' ? (SYSLOG_SEVERITY[record.severity_id] ?? 5) : 5;
  return record.status_id === OCSF_FAILURE ? Math.min(bySeverity, 4) : bySeverity;
}

/** CEF's severity, by the same rule: a failure is at least 5 (medium). */
export function cefSeverity(record: RecordFields): number {
  const bySeverity =
    typeof record.severity_id === 'number' ? (CEF_SEVERITY[record.severity_id] ?? 3) : 3;
  return record.status_id === OCSF_FAILURE ? Math.max(bySeverity, 5) : bySeverity;
}

/** A host name as RFC 5424 HOSTNAME allows it: printable ASCII without spaces, at most 255. */
export function syslogHostname(name: string): string {
  const printable = name.replace(/[^\x21-\x7e]/g, '-').slice(0, 255);
  return printable.length > 0 ? printable : NILVALUE;
}

/** PARAM-VALUE escaping (RFC 5424 section 6.3.3): `"`, `\` and `]` get a backslash. */
export function escapeParamValue(value: string): string {
  return value.toWellFormed().replace(/["\\\]]/g, '\\$&');
}

/** RFC 3339 with milliseconds in UTC, or NILVALUE for a time syslog cannot write (year > 9999). */
function timestamp(time: Date): string {
  const year = time.getUTCFullYear();
  return Number.isNaN(time.getTime()) || year < 0 || year > 9999 ? NILVALUE : time.toISOString();
}

function structuredData(stored: StoredRecord, record: RecordFields): string {
  const params: [string, string][] = [
    ['seq', String(stored.sequence)],
    ['prevHash', stored.previousHash.toString('hex')],
    ['hash', stored.hash.toString('hex')],
    ['eventId', stored.eventId],
    ['eventType', stored.eventType],
  ];
  if (typeof record.class_uid === 'number') params.push(['classUid', String(record.class_uid)]);
  return `[${SD_ID}${params.map(([name, value]) => ` ${name}="${escapeParamValue(value)}"`).join('')}]`;
}

/** A CEF header field: `\` and `|` escaped, line breaks (not allowed there) made spaces. */
export function escapeCefHeader(value: string): string {
  return value
    .toWellFormed()
    .replace(/[\\|]/g, '\\$&')
    .replace(/\r\n|[\r\n]/g, ' ');
}

/** A CEF extension value: `\` and `=` escaped, line breaks written as `\n` / `\r`. */
export function escapeCefValue(value: string): string {
  return value
    .toWellFormed()
    .replace(/[\\=]/g, '\\$&')
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

/**
 * A record as a CEF line: the event type is the signature id, the class and the event's aggregate
 * and activity its name; sequence, hashes, tenant and target in labelled custom fields.
 */
export function cefMessage(
  stored: StoredRecord,
  record: RecordFields,
  productVersion: string,
): string {
  const className = text(record.class_name) ?? 'Event';
  const name = [className, text(record.target?.type), text(record.activity_name)]
    .filter((part) => part !== undefined)
    .join(' ');
  const header = [
    'CEF:0',
    'Rampart',
    'Rampart Audit',
    productVersion,
    stored.eventType,
    name,
    String(cefSeverity(record)),
  ]
    .map((field, index) => (index === 0 ? field : escapeCefHeader(field)))
    .join('|');
  const extension: [string, string | undefined][] = [
    ['rt', String(stored.occurredAt.getTime())],
    ['externalId', stored.eventId],
    ['cat', className],
    ['outcome', text(record.status)],
    ['reason', text(record.status_detail)],
    ['suser', text(record.actor?.user?.uid)],
    ['src', isIP(text(record.src_endpoint?.ip) ?? '') ? text(record.src_endpoint?.ip) : undefined],
    ['cn1Label', 'sequence'],
    ['cn1', String(stored.sequence)],
    ['cs1Label', 'hash'],
    ['cs1', stored.hash.toString('hex')],
    ['cs2Label', 'previousHash'],
    ['cs2', stored.previousHash.toString('hex')],
    ['cs3Label', 'tenant'],
    ['cs3', text(record.metadata?.tenant_uid)],
    ['cs4Label', 'target'],
    ['cs4', text(record.target?.uid) ?? stored.subject ?? undefined],
  ];
  return `${header}|${extension
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${escapeCefValue(value)}`)
    .join(' ')}`;
}

/**
 * A stored record as one RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME rampart-audit - MSGID [SD] MSG`.
 * MSGID is the OCSF class (`3002`...), the 32 characters it may have being too few for event
 * types. In `rfc5424` format MSG is the record's JSON exactly as hashed, after a UTF-8 BOM (RFC
 * 5424 section 6.4); in `cef` format it is the CEF line without a BOM, since CEF parsers expect
 * `CEF:` first.
 */
export function syslogMessage(stored: StoredRecord, options: SyslogOptions): Buffer {
  // Retention prunes only what every cursor has passed (retention/archiver.ts).
  if (stored.record === null) {
    throw new Error(`record ${stored.sequence} was pruned before it was forwarded`);
  }
  const recordText = stored.record;
  const record = JSON.parse(recordText) as RecordFields;
  const pri = options.facility * 8 + syslogSeverity(record);
  const msgId = typeof record.class_uid === 'number' ? String(record.class_uid) : NILVALUE;
  const header =
    `<${pri}>1 ${timestamp(stored.occurredAt)} ${options.hostname} ${APP_NAME} ${NILVALUE} ` +
    `${msgId} ${structuredData(stored, record)} `;
  return options.format === 'cef'
    ? Buffer.from(header + cefMessage(stored, record, options.productVersion), 'utf8')
    : Buffer.concat([Buffer.from(header, 'utf8'), BOM, Buffer.from(recordText, 'utf8')]);
}

/** Octet-counting framing (RFC 5425 section 4.3, RFC 6587 section 3.4.1): `MSG-LEN SP MSG`. */
export function octetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
