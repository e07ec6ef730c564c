import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's configuration schema. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly issues: { variable: string; message: string }[],
  ) {
    super(
      `Invalid configuration for ${service}:\n` +
        issues.map((issue) => `  ${issue.variable}: ${issue.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/**
 * Settings every service reads. Services extend this with their own variables; the environment
 * variable name is the key, so an error names exactly what to fix.
 */
export const baseConfigSchema = z.object({
  RAMPART_MODE: z.enum(['development', 'production']).default('development'),
  RAMPART_TENANT: z.string().min(1).max(64).default('default'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535),
  /** This service's workload private key (JWK, JSON file, mode 0600). */
  WORKLOAD_KEY_FILE: z.string().min(1),
  /** Folder of `<service>.pub.jwk` files: the workloads this service trusts. */
  WORKLOAD_TRUST_DIR: z.string().min(1),
  /**
   * Identity's issuer and JWK Set for access tokens (RFC 9068) callers present as bearer tokens.
   * Unset: no issuer is trusted and routes that accept tokens admit workloads only.
   */
  ACCESS_TOKEN_ISSUER: z.url().optional(),
  ACCESS_TOKEN_JWKS_URI: z.url({ protocol: /^https?$/ }).optional(),
  /** The audience tokens must name to be accepted here; defaults to `urn:rampart:<service>`. */
  ACCESS_TOKEN_AUDIENCE: z.string().min(1).optional(),
  /** Development-only escape hatch, refused in production mode. */
  RAMPART_ALLOW_INSECURE_DEV_DEFAULTS: booleanFlag.default(false),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Settings of a service that owns data and exchanges events (all but the gateway). */
export const dataServiceConfigSchema = baseConfigSchema.extend({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
    .default('public'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Comma-separated `host:port` list; when set, events travel over Kafka. */
  KAFKA_BROKERS: z
    .string()
    .refine(
      (list) => list.split(',').every((broker) => /^[\w.-]+:\d{1,5}$/.test(broker)),
      'must be host:port[,host:port...]',
    )
    .optional(),
  KAFKA_CLIENT_ID: z.string().optional(),
  /** Partitions and replication of topics a service creates when they are missing. */
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1_000).default(3),
  KAFKA_TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(7).default(1),
  /**
   * How long the group waits for a silent consumer before giving its partitions to another: a
   * crashed replica's partitions stand still this long. The broker's group.min/max bound it.
   */
  KAFKA_CONSUMER_SESSION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(6_000)
    .max(300_000)
    .default(30_000),
  /**
   * Back-pressure: the most a consumer fetches per partition and per fetch. A consumer fetches
   * again only after every batch of the last fetch is settled, so this bounds what it holds.
   */
  KAFKA_CONSUMER_MAX_BYTES_PER_PARTITION: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(64 * 1_048_576)
    .default(1_048_576),
  KAFKA_CONSUMER_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(256 * 1_048_576)
    .default(10 * 1_048_576),
});

export type DataServiceConfig = z.infer<typeof dataServiceConfigSchema>;

/**
 * Validates `env` against `schema` and returns the typed result, or throws a ConfigError naming
 * every offending variable. Services call this once, before anything else starts.
 */
export function loadConfig<S extends z.ZodType<BaseConfig>>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      service,
      result.error.issues.map((issue) => ({
        variable: issue.path.map(String).join('.') || '(environment)',
        message: issue.message,
      })),
    );
  }
  const config = result.data;
  if (Boolean(config.ACCESS_TOKEN_ISSUER) !== Boolean(config.ACCESS_TOKEN_JWKS_URI)) {
    throw new ConfigError(service, [
      {
        variable: config.ACCESS_TOKEN_ISSUER ? 'ACCESS_TOKEN_JWKS_URI' : 'ACCESS_TOKEN_ISSUER',
        message: 'ACCESS_TOKEN_ISSUER and ACCESS_TOKEN_JWKS_URI are set together',
      },
    ]);
  }
  if (config.RAMPART_MODE === 'production' && config.RAMPART_ALLOW_INSECURE_DEV_DEFAULTS) {
    throw new ConfigError(service, [
      {
        variable: 'RAMPART_ALLOW_INSECURE_DEV_DEFAULTS',
        message: 'development defaults are refused when RAMPART_MODE=production',
      },
    ]);
  }
  return config;
}

/**
 * Checks a data service can run separately in production: without brokers it would keep its
 * events to itself (the in-process transport serves all-in-one mode only).
 */
export function assertDataServiceDeployable(service: string, config: DataServiceConfig): void {
  if (config.RAMPART_MODE === 'production' && !config.KAFKA_BROKERS) {
    throw new ConfigError(service, [
      {
        variable: 'KAFKA_BROKERS',
        message:
          'required when RAMPART_MODE=production (the in-process transport serves all-in-one only)',
      },
    ]);
  }
}

/** Injection token of the validated configuration object. */
export const SERVICE_CONFIG = Symbol('rampart.service-config');
