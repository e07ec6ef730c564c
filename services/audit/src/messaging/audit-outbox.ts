import { Outbox } from '@rampart/platform';
import type { EntityManager } from 'typeorm';

/** The envelope's tenant for events of the log itself, which belong to no one tenant. */
export const AUDIT_DEFAULT_TENANT = 'default';

/**
 * The audit service's outbox as seen from inside one of its transactions (a chain append, an
 * inbox batch), where the Nest-provided one is out of reach. The relay's wake-up channel is named
 * after the schema, so the schema comes from the transaction's own connection.
 */
export function auditOutbox(transaction: EntityManager): Outbox {
  const { schema } = transaction.connection.options as { schema?: string };
  return new Outbox('audit', schema ?? 'public', AUDIT_DEFAULT_TENANT);
}
