import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@rampart/platform';
import { auditConfigSchema } from './audit.config.js';

const base = {
  PORT: '0',
  DATABASE_URL: 'postgres://audit@localhost/rampart',
  WORKLOAD_KEY_FILE: '/run/secrets/audit.key',
  WORKLOAD_TRUST_DIR: '/run/trust',
  KAFKA_BROKERS: 'kafka:9092',
};

describe('audit configuration', () => {
  it('refuses production without key-management, naming AUDIT_KMS_URL', () => {
    let refused: unknown;
    try {
      loadConfig('audit', auditConfigSchema, { ...base, RAMPART_MODE: 'production' });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).issues).toEqual([
      { variable: 'AUDIT_KMS_URL', message: expect.stringContaining('RAMPART_MODE=production') },
    ]);
  });

  it('starts in production with key-management, and in development without it', () => {
    const production = loadConfig('audit', auditConfigSchema, {
      ...base,
      RAMPART_MODE: 'production',
      AUDIT_KMS_URL: 'http://key-management:8080',
    });
    expect(production.AUDIT_PSEUDONYM_KEY).toBe('audit-pseudonyms');
    expect(loadConfig('audit', auditConfigSchema, base).AUDIT_KMS_URL).toBeUndefined();
  });
});
