import {
  pino,
  stdSerializers,
  type DestinationStream,
  type Logger,
  type LoggerOptions,
} from 'pino';
import { trace } from '@opentelemetry/api';
import type { LoggerService } from '@nestjs/common';

/**
 * Field names whose values never reach a log line: credentials, tokens, key material and the
 * personal data Rampart handles. Matched at any depth up to three levels.
 */
const SENSITIVE_KEYS = [
  'password',
  'passwd',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'assertion',
  'authorization',
  'cookie',
  'set-cookie',
  'privateKey',
  'key',
  'd',
  'plaintext',
  'email',
  'phone',
  'phoneNumber',
  'address',
  'ip',
  'DATABASE_URL',
];

const REDACT_PATHS = SENSITIVE_KEYS.flatMap((key) => {
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) =>
    safe.startsWith('[') ? `${prefix}${safe}` : `${prefix}.${safe}`;
  return [safe.startsWith('[') ? safe.slice(2, -2) : safe, join('*'), join('*.*')];
});

/** Credentials embedded in connection strings (postgres://user:secret@host) inside messages. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s]+@/gi;

export function scrubSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1[redacted]@');
}

function errorSerializer(error: Error): Record<string, unknown> {
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of ['message', 'stack'] as const) {
    const value = serialized[field];
    if (typeof value === 'string') serialized[field] = scrubSecrets(value);
  }
  // Database errors carry the statement, its parameters (event payloads, personal data) and
  // PostgreSQL's detail ("Key (email)=(...)"): none of that belongs in a log line.
  for (const field of ['query', 'parameters', 'driverError', 'detail', 'where', 'cause']) {
    delete serialized[field];
  }
  return serialized;
}

export function createLogger(
  service: string,
  level: LoggerOptions['level'] = 'info',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errorSerializer, error: errorSerializer },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Correlate every line with the active trace, so logs and spans join up.
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { traceId, spanId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's logger interface over pino, so framework messages share the same redacted JSON. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

export type { Logger };
