import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  assertDataServiceDeployable,
  baseConfigSchema,
  ConfigError,
  dataServiceConfigSchema,
  loadConfig,
} from './config.js';

const valid = {
  PORT: '8081',
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  WORKLOAD_KEY_FILE: '/keys/identity.jwk',
  WORKLOAD_TRUST_DIR: '/keys/trust',
};

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig('identity', dataServiceConfigSchema, valid);
    expect(config.PORT).toBe(8081);
    expect(config.RAMPART_MODE).toBe('development');
    expect(config.KAFKA_BROKERS).toBeUndefined();
  });

  it('names every invalid variable', () => {
    const attempt = () =>
      loadConfig('identity', dataServiceConfigSchema, {
        ...valid,
        PORT: 'eighty',
        DATABASE_URL: 'x',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const variables = (error as ConfigError).issues.map((issue) => issue.variable);
      expect(variables).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL']));
      expect((error as Error).message).toContain('PORT');
    }
  });

  it('refuses a malformed broker list', () => {
    expect(() =>
      loadConfig('audit', dataServiceConfigSchema, { ...valid, KAFKA_BROKERS: 'kafka' }),
    ).toThrow(/KAFKA_BROKERS/);
  });

  it('refuses development defaults in production mode', () => {
    expect(() =>
      loadConfig('identity', baseConfigSchema, {
        ...valid,
        RAMPART_MODE: 'production',
        RAMPART_ALLOW_INSECURE_DEV_DEFAULTS: 'true',
      }),
    ).toThrow(/refused when RAMPART_MODE=production/);
  });

  it('requires Kafka for a data service in production mode', () => {
    const production = loadConfig('audit', dataServiceConfigSchema, {
      ...valid,
      RAMPART_MODE: 'production',
    });
    expect(() => assertDataServiceDeployable('audit', production)).toThrow(
      /KAFKA_BROKERS: required when RAMPART_MODE=production/,
    );
    const withKafka = { ...production, KAFKA_BROKERS: 'kafka-0:9092,kafka-1:9092' };
    expect(() => assertDataServiceDeployable('audit', withKafka)).not.toThrow();
  });

  it('validates service-specific extensions', () => {
    const schema = baseConfigSchema.extend({
      GATEWAY_TIMEOUT_MS: z.coerce.number().int().positive(),
    });
    expect(() => loadConfig('gateway', schema, valid)).toThrow(/GATEWAY_TIMEOUT_MS/);
  });
});
