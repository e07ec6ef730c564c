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
  it('defaults to ES256, a 30-day rotation and a 24-hour grace period', () => {
    expect(loadConfig('key-management', keyManagementConfigSchema, base)).toMatchObject({
      KMS_TOKEN_SIGNING_ALGORITHM: 'ES256',
      KMS_TOKEN_SIGNING_ROTATION_DAYS: 30,
      KMS_TOKEN_SIGNING_GRACE_HOURS: 24,
    });
  });

  it.each([
    ['KMS_TOKEN_SIGNING_ALGORITHM', 'HS256', /ES256/],
    ['KMS_TOKEN_SIGNING_ROTATION_DAYS', '0', />=1/],
    ['KMS_TOKEN_SIGNING_ROTATION_DAYS', '1.5', /expected int/],
    // Shorter than the JWK Set cache time would let relying parties miss the rotated-out key.
    ['KMS_TOKEN_SIGNING_GRACE_HOURS', '0', />=1/],
    ['KMS_TOKEN_SIGNING_GRACE_HOURS', 'a day', /number/],
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
