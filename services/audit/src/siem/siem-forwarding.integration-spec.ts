import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAudit, type AuditHarness } from '../testing/audit-harness.js';
import {
  createTestPki,
  parseSyslog,
  startSyslogReceiver,
  type SyslogReceiver,
  type TestPki,
} from '../testing/syslog-receiver.js';

describe('the audit service with AUDIT_SYSLOG_URL set', () => {
  let pki: TestPki;
  let receiver: SyslogReceiver;
  let audit: AuditHarness;

  beforeAll(async () => {
    pki = await createTestPki();
    receiver = await startSyslogReceiver({ ...pki.server, clientCa: pki.ca });
    audit = await startAudit({
      AUDIT_SYSLOG_URL: `tls://127.0.0.1:${receiver.port}`,
      AUDIT_SYSLOG_CA_FILE: pki.caFile,
      AUDIT_SYSLOG_CERT_FILE: pki.clientCertFile,
      AUDIT_SYSLOG_KEY_FILE: pki.clientKeyFile,
      AUDIT_SYSLOG_HOSTNAME: 'audit-under-test',
    });
  });

  afterAll(async () => {
    await audit?.stop();
    await receiver?.close();
    await pki?.remove();
  });

  it('forwards its log over mutual TLS from the start, its own start first', async () => {
    const [frame] = await receiver.waitFor(1);
    expect(frame!.clientCn).toBe('audit');
    const message = parseSyslog(frame!.message);
    expect(message).toMatchObject({
      hostname: 'audit-under-test',
      appName: 'rampart-audit',
      msgId: '6002',
      params: { seq: '1', eventType: 'rampart.audit.lifecycle.started', classUid: '6002' },
    });
    const record = JSON.parse(message.msg.subarray(3).toString('utf8')) as {
      metadata: { uid: string };
    };
    expect(record.metadata.uid).toBe(message.params['eventId']);
    // The batch is confirmed at the next round, once the connection outlived it.
    const cursor = async () => {
      const [row] = await audit.admin<{ last_sequence: string }>(
        `SELECT last_sequence FROM audit_siem_cursors WHERE destination = $1`,
        [`127.0.0.1:${receiver.port}`],
      );
      return Number(row?.last_sequence ?? 0);
    };
    const deadline = Date.now() + 10_000;
    while ((await cursor()) < 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await cursor()).toBeGreaterThanOrEqual(1);
  });

  it('does not start when a PEM file cannot be read, naming the variable', async () => {
    await expect(
      startAudit({
        AUDIT_SYSLOG_URL: `tls://127.0.0.1:${receiver.port}`,
        AUDIT_SYSLOG_CA_FILE: `${pki.dir}/missing.pem`,
      }),
    ).rejects.toThrow(/AUDIT_SYSLOG_CA_FILE: cannot read .*missing\.pem: ENOENT/);
  });
});
