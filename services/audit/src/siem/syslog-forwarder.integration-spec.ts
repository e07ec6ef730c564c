import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLogger } from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { appendToChain } from '../chain/chain-appender.js';
import { entryHash } from '../chain/chain-hash.js';
import { openAuditTestDatabase, type AuditTestDatabase } from '../testing/audit-database.js';
import { testRecord } from '../testing/records.js';
import {
  createTestPki,
  parseSyslog,
  startSyslogReceiver,
  type SyslogReceiver,
  type TestPki,
} from '../testing/syslog-receiver.js';
import { siemCursorRepository } from './siem-cursor.repository.js';
import type { SyslogTarget } from './syslog-connection.js';
import { SyslogForwarder, type SyslogForwarderOptions } from './syslog-forwarder.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A real platform logger writing JSON lines into memory. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger('audit', 'info', { write: (line: string) => lines.push(line) });
  return { logger, text: () => lines.join('') };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the syslog forwarder against a real TLS receiver', () => {
  let log: AuditTestDatabase;
  let dataSource: DataSource;
  let pki: TestPki;
  const open: { close(): Promise<void> }[] = [];
  const forwarders: SyslogForwarder[] = [];

  beforeAll(async () => {
    [log, pki] = await Promise.all([openAuditTestDatabase(8), createTestPki()]);
    dataSource = log.dataSource;
  });

  afterAll(async () => {
    await log?.close();
    await pki?.remove();
  });

  beforeEach(async () => {
    await log.emptyLog();
    await dataSource.query(`DELETE FROM audit_siem_cursors`);
  });

  afterEach(async () => {
    await Promise.all(forwarders.splice(0).map((forwarder) => forwarder.stop()));
    await Promise.all(open.splice(0).map((resource) => resource.close()));
  });

  const append = (count: number) =>
    dataSource.transaction((transaction) =>
      appendToChain(
        transaction,
        Array.from({ length: count }, () => testRecord()),
      ),
    );

  async function receiver(
    options: { rogue?: boolean; clientCa?: string; port?: number } = {},
  ): Promise<SyslogReceiver> {
    const started = await startSyslogReceiver({
      ...(options.rogue ? pki.rogue : pki.server),
      ...(options.clientCa ? { clientCa: options.clientCa } : {}),
      ...(options.port ? { port: options.port } : {}),
    });
    open.push(started);
    return started;
  }

  function forwarder(
    port: number,
    overrides: Partial<SyslogForwarderOptions> & { tls?: SyslogTarget['tls'] } = {},
  ) {
    const { tls, ...rest } = overrides;
    const created = new SyslogForwarder(dataSource, {
      destination: `127.0.0.1:${port}`,
      target: { host: '127.0.0.1', port, tls: tls ?? { ca: pki.ca } },
      syslog: { format: 'rfc5424', facility: 10, hostname: 'audit-test', productVersion: '0.1.0' },
      batchSize: 50,
      logger: capturedLogger().logger,
      idleMs: 20,
      minBackoffMs: 20,
      maxBackoffMs: 100,
      timeoutMs: 2_000,
      settleMs: 20,
      ...rest,
    });
    forwarders.push(created);
    return created;
  }

  const cursorOf = (port: number) => siemCursorRepository.position(dataSource, `127.0.0.1:${port}`);
  const sequences = (target: SyslogReceiver) =>
    target.frames.map((frame) => Number(parseSyslog(frame.message).params['seq']));

  it('sends each record as an RFC 5424 message a receiver parses back, hash and JSON intact', async () => {
    const { appended } = await append(3);
    const target = await receiver();
    const sender = forwarder(target.port);
    sender.start();
    const frames = await target.waitFor(3);

    expect(target.framingErrors).toEqual([]);
    const rows = await dataSource.query<
      { sequence: string; event_id: string; record: string; previous_hash: Buffer; hash: Buffer }[]
    >(
      `SELECT sequence, event_id, record, previous_hash, hash FROM audit_records ORDER BY sequence`,
    );
    frames.forEach((frame, index) => {
      const row = rows[index]!;
      expect(frame.declared).toBe(frame.message.length);
      const message = parseSyslog(frame.message);
      expect(message).toMatchObject({
        pri: 10 * 8 + 5, // authpriv, notice: the test record has no OCSF severity
        version: '1',
        hostname: 'audit-test',
        appName: 'rampart-audit',
        procId: '-',
        msgId: '6003',
        sdId: 'rampart@32473',
      });
      expect(new Date(message.timestamp).getTime()).toBe(JSON.parse(row.record).time);
      expect(message.params).toEqual({
        seq: String(appended[index]),
        prevHash: row.previous_hash.toString('hex'),
        hash: row.hash.toString('hex'),
        eventId: row.event_id,
        eventType: 'rampart.audit.test.happened',
        classUid: '6003',
      });
      expect(message.msg.subarray(0, 3)).toEqual(BOM);
      const json = message.msg.subarray(3).toString('utf8');
      expect(json).toBe(row.record);
      // A SIEM can check the record against the chain from the message alone.
      expect(
        entryHash(Number(message.params['seq']), message.params['prevHash']!, JSON.parse(json)),
      ).toEqual(row.hash);
    });
    await until(async () => (await cursorOf(target.port)) === 3);
  });

  it('carries values with quotes, backslashes, brackets and non-ASCII text unharmed', async () => {
    const record = testRecord({ eventId: 'evt-"quoted"-\\-]-ünï', subject: 'sübject ] "x"' });
    await dataSource.transaction((transaction) => appendToChain(transaction, [record]));
    const target = await receiver();
    forwarder(target.port).start();
    const [frame] = await target.waitFor(1);
    expect(frame!.declared).toBe(frame!.message.length);
    const message = parseSyslog(frame!.message);
    expect(message.params['eventId']).toBe('evt-"quoted"-\\-]-ünï');
    expect(JSON.parse(message.msg.subarray(3).toString('utf8'))).toEqual(record);
  });

  it('catches up without loss or reordering once a receiver that was down comes up', async () => {
    const probe = await startSyslogReceiver(pki.server);
    const port = probe.port;
    await probe.close();
    const logger = capturedLogger();
    const sender = forwarder(port, { logger: logger.logger, batchSize: 7 });
    await append(10);
    sender.start();
    await until(() => logger.text().includes('syslog forwarding failed'));
    await append(15);
    expect(await cursorOf(port)).toBe(0);

    const target = await receiver({ port });
    await target.waitFor(25);
    await append(5);
    await target.waitFor(30);
    expect(sequences(target)).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(target.framingErrors).toEqual([]);
    expect(logger.text()).toContain('syslog forwarding resumed');
    await until(async () => (await cursorOf(port)) === 30);
  });

  it('refuses a receiver whose certificate the CA did not issue, sending nothing', async () => {
    await append(2);
    const rogue = await receiver({ rogue: true });
    const sender = forwarder(rogue.port);
    await expect(sender.forwardBatch()).rejects.toThrow(/self[- ]signed certificate/);
    expect(rogue.bytes).toBe(0);
    expect(rogue.frames).toEqual([]);
    expect(await cursorOf(rogue.port)).toBe(0);
  });

  it('refuses a certificate for another name, even from the trusted CA', async () => {
    await append(1);
    const target = await receiver();
    // The certificate names 127.0.0.1; the forwarder expects siem.example.
    const sender = forwarder(target.port, { tls: { ca: pki.ca, servername: 'siem.example' } });
    await expect(sender.forwardBatch()).rejects.toThrow(/siem\.example/);
    expect(target.bytes).toBe(0);
  });

  it('presents a client certificate to a receiver that requires mutual TLS', async () => {
    await append(2);
    const target = await receiver({ clientCa: pki.ca });
    forwarder(target.port, { tls: { ca: pki.ca, ...pki.client } }).start();
    const frames = await target.waitFor(2);
    expect(frames.map((frame) => frame.clientCn)).toEqual(['audit', 'audit']);
  });

  it('does not count a batch as received when the receiver refuses the client after the handshake', async () => {
    await append(3);
    const target = await receiver({ clientCa: pki.ca });
    const logger = capturedLogger();
    // No client certificate: under TLS 1.3 the client finishes its handshake and writes before
    // the receiver's refusal arrives, so a write "succeeds".
    const sender = forwarder(target.port, { logger: logger.logger });
    sender.start();
    await until(() => (logger.text().match(/syslog forwarding failed/g) ?? []).length >= 3);
    await sender.stop();
    expect(target.frames).toEqual([]);
    expect(await cursorOf(target.port)).toBe(0);
  });

  it('resumes after a restart from the cursor, sending only what the last run did not', async () => {
    await append(4);
    const target = await receiver();
    const first = forwarder(target.port);
    first.start();
    await target.waitFor(4);
    await first.stop();
    expect(await cursorOf(target.port)).toBe(4);

    await append(3);
    const second = forwarder(target.port);
    second.start();
    await target.waitFor(7);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sequences(target)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('lets one replica at a time forward to a destination, so each record is sent once', async () => {
    await append(120);
    const target = await receiver();
    const replicas = [forwarder(target.port), forwarder(target.port)];
    for (const replica of replicas) replica.start();
    await target.waitFor(120);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sequences(target)).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
  });

  it('sends CEF in MSG when asked, under the same header and structured data', async () => {
    await append(1);
    const target = await receiver();
    forwarder(target.port, {
      syslog: { format: 'cef', facility: 16, hostname: 'audit-test', productVersion: '0.1.0' },
    }).start();
    const [frame] = await target.waitFor(1);
    const message = parseSyslog(frame!.message);
    // local0, notice: the test record has no OCSF severity.
    expect(message.pri).toBe(16 * 8 + 5);
    expect(message.params['seq']).toBe('1');
    expect(message.msg.toString('utf8')).toMatch(
      /^CEF:0\|Rampart\|Rampart Audit\|0\.1\.0\|rampart\.audit\.test\.happened\|Event test\|3\|rt=\d+ externalId=/,
    );
  });
});
