import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@rampart/platform';
import { auditConfigSchema } from '../config/audit.config.js';
import { syslogTarget } from './siem-forwarding.js';

const ENV = {
  PORT: '0',
  WORKLOAD_KEY_FILE: '/nonexistent/audit.jwk',
  WORKLOAD_TRUST_DIR: '/nonexistent',
  DATABASE_URL: 'postgres://localhost/audit',
} as const;

const load = (env: Record<string, string>) =>
  loadConfig('audit', auditConfigSchema, { ...ENV, ...env });

describe('the SIEM forwarder configuration', () => {
  it('is off when AUDIT_SYSLOG_URL is unset, with RFC 5424 and authpriv as defaults', () => {
    const config = load({});
    expect(config.AUDIT_SYSLOG_URL).toBeUndefined();
    expect(syslogTarget(config)).toBeUndefined();
    expect(config.AUDIT_SYSLOG_FORMAT).toBe('rfc5424');
    expect(config.AUDIT_SYSLOG_FACILITY).toBe(10);
    expect(config.AUDIT_SYSLOG_TLS_VERIFY).toBe(true);
  });

  it('takes a facility by name or code, and refuses others naming the variable', () => {
    expect(load({ AUDIT_SYSLOG_FACILITY: 'local4' }).AUDIT_SYSLOG_FACILITY).toBe(20);
    expect(load({ AUDIT_SYSLOG_FACILITY: '13' }).AUDIT_SYSLOG_FACILITY).toBe(13);
    expect(() => load({ AUDIT_SYSLOG_FACILITY: '24' })).toThrow(/AUDIT_SYSLOG_FACILITY/);
    expect(() => load({ AUDIT_SYSLOG_FACILITY: 'local8' })).toThrow(/AUDIT_SYSLOG_FACILITY/);
  });

  it('needs tls:// or tcp:// with a port', () => {
    expect(() => load({ AUDIT_SYSLOG_URL: 'udp://siem.example:514' })).toThrow(/AUDIT_SYSLOG_URL/);
    expect(() => load({ AUDIT_SYSLOG_URL: 'tls://siem.example' })).toThrow(/needs a port/);
    const config = load({ AUDIT_SYSLOG_URL: 'tls://[::1]:6514' });
    expect(syslogTarget(config)).toEqual({
      host: '::1',
      port: 6514,
      tls: { rejectUnauthorized: true },
    });
  });

  it('takes a client certificate only with its key', () => {
    expect(() =>
      load({ AUDIT_SYSLOG_URL: 'tls://siem.example:6514', AUDIT_SYSLOG_CERT_FILE: '/x.pem' }),
    ).toThrow(
      /AUDIT_SYSLOG_KEY_FILE: AUDIT_SYSLOG_CERT_FILE and AUDIT_SYSLOG_KEY_FILE are set together/,
    );
  });

  it('refuses plain TCP and an unverified receiver in production mode, allows them in development', () => {
    const unsafe = { AUDIT_SYSLOG_URL: 'tcp://siem.example:514', AUDIT_SYSLOG_TLS_VERIFY: 'false' };
    expect(syslogTarget(load(unsafe))).toEqual({ host: 'siem.example', port: 514 });
    expect(() => load({ ...unsafe, RAMPART_MODE: 'production' })).toThrow(
      /AUDIT_SYSLOG_URL: plain TCP is refused when RAMPART_MODE=production/,
    );
    expect(() =>
      load({
        AUDIT_SYSLOG_URL: 'tls://siem.example:6514',
        AUDIT_SYSLOG_TLS_VERIFY: 'false',
        RAMPART_MODE: 'production',
      }),
    ).toThrow(/AUDIT_SYSLOG_TLS_VERIFY: an unverified receiver is refused/);
    expect(
      load({
        AUDIT_SYSLOG_URL: 'tls://siem.example:6514',
        RAMPART_MODE: 'production',
        // Production also needs key-management for personal data (audit.config.spec.ts).
        AUDIT_KMS_URL: 'http://key-management:8083',
      }).AUDIT_SYSLOG_URL,
    ).toBe('tls://siem.example:6514');
  });

  it('stops the service at start when a PEM file cannot be read, naming the variable', () => {
    const config = load({
      AUDIT_SYSLOG_URL: 'tls://siem.example:6514',
      AUDIT_SYSLOG_CA_FILE: '/nonexistent/ca.pem',
    });
    expect(() => syslogTarget(config)).toThrow(
      /AUDIT_SYSLOG_CA_FILE: cannot read \/nonexistent\/ca\.pem: ENOENT/,
    );
  });
});
