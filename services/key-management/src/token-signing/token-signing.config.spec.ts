import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@rampart/platform';
import { keyManagementConfigSchema } from '../config/key-management.config.js';

const base = {
  PORT: '0',
  WORKLOAD_KEY_FILE: '/keys/key-management.jwk',
  WORKLOAD_TRUST_DIR: '/keys/trust',
  DATABASE_URL: 'postgres://kms@localhost/kms',
  KMS_ROOT_KEY_FILE: '/secrets/root.key',
};

describe('token-signing configuration', () => {
  it('defaults to ES256, a 30-day rotation, a 24-hour grace period and a check every minute', () => {
    expect(loadConfig('key-management', keyManagementConfigSchema, base)).toMatchObject({
      KMS_TOKEN_SIGNING_ALGORITHM: 'ES256',
      KMS_TOKEN_SIGNING_ROTATION_PERIOD: 30 * 24 * 3_600_000,
      KMS_TOKEN_SIGNING_GRACE_PERIOD: 24 * 3_600_000,
      KMS_TOKEN_SIGNING_CHECK_INTERVAL: 60_000,
    });
  });

  it('reads durations with their unit', () => {
    expect(
      loadConfig('key-management', keyManagementConfigSchema, {
        ...base,
        KMS_TOKEN_SIGNING_ALGORITHM: 'EdDSA',
        KMS_TOKEN_SIGNING_ROTATION_PERIOD: '90m',
        KMS_TOKEN_SIGNING_GRACE_PERIOD: '3600s',
        KMS_TOKEN_SIGNING_CHECK_INTERVAL: '250ms',
      }),
    ).toMatchObject({
      KMS_TOKEN_SIGNING_ALGORITHM: 'EdDSA',
      KMS_TOKEN_SIGNING_ROTATION_PERIOD: 90 * 60_000,
      KMS_TOKEN_SIGNING_GRACE_PERIOD: 3_600_000,
      KMS_TOKEN_SIGNING_CHECK_INTERVAL: 250,
    });
  });

  it.each([
    ['KMS_TOKEN_SIGNING_ALGORITHM', 'HS256', /ES256/],
    ['KMS_TOKEN_SIGNING_ROTATION_PERIOD', '30 days', /duration such as/],
    ['KMS_TOKEN_SIGNING_ROTATION_PERIOD', '5m', /between 1h and 365d/],
    // Shorter than the JWK Set cache time: relying parties could miss the rotated-out key.
    ['KMS_TOKEN_SIGNING_GRACE_PERIOD', '4m', /between 10m and 90d/],
    ['KMS_TOKEN_SIGNING_CHECK_INTERVAL', '2h', /between 100ms and 1h/],
  ])('refuses %s=%s, naming the variable', (variable, value, message) => {
    let error: unknown;
    try {
      loadConfig('key-management', keyManagementConfigSchema, { ...base, [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { variable, message: expect.stringMatching(message) },
    ]);
  });
});
