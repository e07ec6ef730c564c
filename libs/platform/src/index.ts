import 'reflect-metadata';

export * from './config/config.js';
export * from './database/data-source.js';
export * from './database/provisioning.js';
export * from './database/embedded-postgres-access.js';
export * from './errors/rampart-error.js';
export * from './errors/problem-details.js';
export * from './errors/problem-details.filter.js';
export * from './http/parse-request.js';
export * from './http/media-type.js';
export * from './health/health.js';
export * from './messaging/transport.js';
export * from './messaging/event-factory.js';
export * from './messaging/outbox.js';
export * from './messaging/outbox-relay.js';
export * from './messaging/inbox-consumer.js';
export * from './messaging/messaging.js';
export * from './messaging/messaging.migration.js';
export * from './messaging/transports/kafka.transport.js';
export * from './messaging/transports/in-process.transport.js';
export * from './openapi/openapi.js';
export * from './openapi/strict-schemas.js';
export * from './service/service-definition.js';
export * from './service/define-service.js';
export * from './service/platform.module.js';
export * from './service/start-service.js';
export * from './service/run-standalone.js';
export * from './telemetry/logger.js';
export * from './telemetry/trace-context.js';
export * from './workload/workload-identity.js';
export * from './workload/workload-encryption.js';
export * from './kms/token-signing-client.js';
export * from './workload/access.decorators.js';
export * from './workload/access.guard.js';
export * from './workload/access-token.js';
export * from './kms/kms-client.js';
export {
  ENVELOPE_FORMAT_VERSION,
  MalformedEnvelopeError,
  parseEnvelope,
  type EncryptionContext,
  type EnvelopeHeader,
  type KeyKind,
  type ParsedEnvelope,
} from './kms/envelope-format.js';
export * from './kms/envelope-encryption.js';
export * from './uploads/upload-policy.js';
export * from './uploads/read-upload.js';
export * from './uploads/upload-name.js';
export * from './uploads/upload-content.js';
export * from './uploads/accept-upload.js';
export * from './uploads/sealed-upload.js';
export * from './uploads/attachment-headers.js';
