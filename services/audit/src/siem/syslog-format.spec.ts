import { describe, expect, it } from '@jest/globals';
import type { StoredRecord } from '../chain/audit-chain.repository.js';
import { canonicalJson } from '../chain/chain-hash.js';
import {
  cefSeverity,
  escapeCefHeader,
  escapeCefValue,
  escapeParamValue,
  octetCounted,
  syslogHostname,
  syslogMessage,
  syslogSeverity,
  type SyslogOptions,
} from './syslog-format.js';

const options: SyslogOptions = {
  format: 'rfc5424',
  facility: 10,
  hostname: 'audit-0.rampart.example',
  productVersion: '0.1.0',
};

/** A stored record as the repository reads it, around an OCSF record. */
function stored(record: Record<string, unknown>, sequence = 7): StoredRecord {
  return {
    sequence,
    eventId: 'b1946ac9-2f0e-4c1b-9d1f-1e4c0b7a8d11',
    eventType: 'rampart.identity.login.failed',
    service: 'identity',
    subject: 'acct-1',
    occurredAt: new Date(Date.UTC(2026, 10, 28, 13, 40, 2, 118)),
    recordedAt: new Date(Date.UTC(2026, 10, 28, 13, 40, 2, 300)),
    record: canonicalJson(record),
    previousHash: Buffer.alloc(32, 0xab),
    hash: Buffer.alloc(32, 0xcd),
    leafHash: null,
    archiveId: null,
    classUid: typeof record['class_uid'] === 'number' ? record['class_uid'] : 6003,
    statusId: typeof record['status_id'] === 'number' ? record['status_id'] : null,
    actorUser: null,
    actorAppUid: null,
    actorAppName: null,
  };
}

const loginFailed = {
  class_uid: 3002,
  class_name: 'Authentication',
  activity_name: 'failed',
  severity_id: 1,
  status: 'Failure',
  status_id: 2,
  status_detail: 'bad "password" \\ [locked]',
  actor: { user: { uid: 'usr=1|ünïcode' } },
  src_endpoint: { ip: '203.0.113.9' },
  target: { uid: 'acct-1', type: 'login' },
  metadata: { uid: 'b1946ac9-2f0e-4c1b-9d1f-1e4c0b7a8d11', tenant_uid: 'default' },
};

/** Splits an octet-counted frame: the length it declares and the message after it. */
function unframe(frame: Buffer): { declared: number; message: Buffer } {
  const space = frame.indexOf(0x20);
  return {
    declared: Number(frame.subarray(0, space).toString('ascii')),
    message: frame.subarray(space + 1),
  };
}

describe('RFC 5424 messages', () => {
  it('writes the header, the structured data and the record after a BOM', () => {
    const message = syslogMessage(stored(loginFailed), options);
    const text = message.toString('utf8');
    // authpriv (10) * 8 + warning (4): a failure is at least warning.
    expect(
      text.startsWith(
        '<84>1 2026-11-28T13:40:02.118Z audit-0.rampart.example rampart-audit - 3002 ' +
          `[rampart@32473 seq="7" prevHash="${'ab'.repeat(32)}" hash="${'cd'.repeat(32)}" ` +
          'eventId="b1946ac9-2f0e-4c1b-9d1f-1e4c0b7a8d11" eventType="rampart.identity.login.failed" ' +
          'classUid="3002"] \ufeff',
      ),
    ).toBe(true);
    const bom = message.indexOf(Buffer.from([0xef, 0xbb, 0xbf]));
    const json = message.subarray(bom + 3).toString('utf8');
    expect(json).toBe(stored(loginFailed).record);
    expect(JSON.parse(json)).toEqual(loginFailed);
  });

  it('escapes ", \\ and ] in parameter values, and nothing else', () => {
    expect(escapeParamValue('a"b\\c]d[e=f ü')).toBe('a\\"b\\\\c\\]d[e=f ü');
    const record = stored(loginFailed);
    const tricky = { ...record, eventId: 'id"with]\\odd' };
    expect(syslogMessage(tricky, options).toString('utf8')).toContain(
      'eventId="id\\"with\\]\\\\odd"',
    );
  });

  it('frames by octets, not characters, for a message with non-ASCII text', () => {
    const frame = octetCounted(syslogMessage(stored(loginFailed), options));
    const { declared, message } = unframe(frame);
    expect(declared).toBe(message.length);
    // ü and ï are two bytes each in UTF-8, and the BOM three: characters would undercount.
    expect(declared).toBeGreaterThan(message.toString('utf8').length);
    expect(message.toString('utf8')).toContain('usr=1|ünïcode');
  });

  it('frames several messages back to back, each readable by its length', () => {
    const frames = Buffer.concat([
      octetCounted(Buffer.from('<86>1 - - - - - - ä')),
      octetCounted(Buffer.from('<86>1 - - - - - - b c')),
    ]);
    const first = unframe(frames);
    expect(first.message.subarray(0, first.declared).toString()).toBe('<86>1 - - - - - - ä');
    const rest = first.message.subarray(first.declared);
    expect(unframe(rest).message.toString()).toBe('<86>1 - - - - - - b c');
  });

  it('takes the severity from OCSF, a failure at least warning', () => {
    expect(syslogSeverity({ severity_id: 1, status_id: 1 })).toBe(6);
    expect(syslogSeverity({ severity_id: 1, status_id: 2 })).toBe(4);
    expect(syslogSeverity({ severity_id: 5, status_id: 2 })).toBe(2);
    expect(syslogSeverity({ severity_id: 99 })).toBe(5);
    expect(syslogSeverity({})).toBe(5);
    const info = syslogMessage(stored({ ...loginFailed, status: 'Success', status_id: 1 }), {
      ...options,
      facility: 16,
    });
    expect(info.toString('utf8').startsWith('<134>1 ')).toBe(true); // local0 * 8 + info
  });

  it('writes NILVALUE for a time syslog cannot carry and cleans a host name', () => {
    const far = { ...stored(loginFailed), occurredAt: new Date(Date.UTC(12_000, 0, 1)) };
    expect(syslogMessage(far, options).toString('utf8')).toMatch(/^<84>1 - audit-0/);
    expect(syslogHostname('my host\u00e9')).toBe('my-host-');
    expect(syslogHostname('')).toBe('-');
    expect(syslogHostname('h'.repeat(300))).toHaveLength(255);
  });
});

describe('CEF messages', () => {
  const cef = { ...options, format: 'cef' as const };

  it('puts a CEF line in MSG, without a BOM, after the same syslog header', () => {
    const text = syslogMessage(stored(loginFailed), cef).toString('utf8');
    expect(text).not.toContain('\ufeff');
    const line = text.slice(text.indexOf('] ') + 2);
    expect(line).toBe(
      'CEF:0|Rampart|Rampart Audit|0.1.0|rampart.identity.login.failed|Authentication login failed|5|' +
        `rt=${Date.UTC(2026, 10, 28, 13, 40, 2, 118)} externalId=b1946ac9-2f0e-4c1b-9d1f-1e4c0b7a8d11 ` +
        'cat=Authentication outcome=Failure reason=bad "password" \\\\ [locked] ' +
        'suser=usr\\=1|ünïcode src=203.0.113.9 cn1Label=sequence cn1=7 ' +
        `cs1Label=hash cs1=${'cd'.repeat(32)} cs2Label=previousHash cs2=${'ab'.repeat(32)} ` +
        'cs3Label=tenant cs3=default cs4Label=target cs4=acct-1',
    );
  });

  it('escapes header fields and extension values as CEF asks', () => {
    expect(escapeCefHeader('a|b\\c=d\ne')).toBe('a\\|b\\\\c=d e');
    expect(escapeCefValue('a|b\\c=d\r\ne\rf')).toBe('a|b\\\\c\\=d\\ne\\rf');
  });

  it('leaves out a source that is not an IP address, and maps severity to 0-10', () => {
    const text = syslogMessage(
      stored({ ...loginFailed, src_endpoint: { ip: 'not an ip' } }),
      cef,
    ).toString('utf8');
    expect(text).not.toContain('src=');
    expect(cefSeverity({ severity_id: 1, status_id: 1 })).toBe(1);
    expect(cefSeverity({ severity_id: 4, status_id: 2 })).toBe(7);
    expect(cefSeverity({ severity_id: 6 })).toBe(10);
  });
});
