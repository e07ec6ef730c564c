import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@rampart/platform';
import { gatewayConfigSchema } from '../config/gateway.config.js';

const base = { WORKLOAD_KEY_FILE: '/k', WORKLOAD_TRUST_DIR: '/t' };

describe('GATEWAY_RATE_LIMIT_* configuration', () => {
  it('defaults to strict limits in memory', () => {
    const config = loadConfig('gateway', gatewayConfigSchema, base);
    expect(config.GATEWAY_RATE_LIMIT_STORE).toBe('memory');
    expect(config.GATEWAY_RATE_LIMIT_SIGN_IN).toEqual({
      name: 'sign-in',
      limit: 10,
      windowSeconds: 60,
    });
    expect(config.GATEWAY_RATE_LIMIT_REGISTRATION).toEqual({
      name: 'registration',
      limit: 10,
      windowSeconds: 3600,
    });
  });

  it('names the variable of a malformed limit', () => {
    expect(() =>
      loadConfig('gateway', gatewayConfigSchema, {
        ...base,
        GATEWAY_RATE_LIMIT_SIGN_IN: '10 per minute',
      }),
    ).toThrow(/GATEWAY_RATE_LIMIT_SIGN_IN: "10 per minute" is not <limit>\/<window>/);
  });

  it('needs a database for the shared store', () => {
    expect(() =>
      loadConfig('gateway', gatewayConfigSchema, { ...base, GATEWAY_RATE_LIMIT_STORE: 'postgres' }),
    ).toThrow(
      /GATEWAY_RATE_LIMIT_DATABASE_URL: must be set when GATEWAY_RATE_LIMIT_STORE=postgres/,
    );
    expect(() =>
      loadConfig('gateway', gatewayConfigSchema, {
        ...base,
        GATEWAY_RATE_LIMIT_STORE: 'redis',
      }),
    ).toThrow(/GATEWAY_RATE_LIMIT_STORE/);
  });
});
