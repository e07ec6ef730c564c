import { AUDIT_STREAM_KEY, AuditStreamEvents } from '@rampart/contracts';
import { Outbox } from '@rampart/platform';
import type { EntityManager } from 'typeorm';
import type { ChainedRecord } from '../chain/audit-chain.repository.js';

/** The envelope's tenant when a record names none a CloudEvent could carry. */
const DEFAULT_TENANT = 'default';

function tenantOf(entry: ChainedRecord): string {
  const tenant = entry.record.metadata['tenant_uid'];
  return typeof tenant === 'string' && tenant.length > 0 && tenant.length <= 64
    ? tenant
    : DEFAULT_TENANT;
}

/**
 * The security teams' stream (docs/security-teams-stream.md): each record just appended, written
 * to the outbox for `rampart.audit.v1` in the transaction of the append, so a message exists if
 * and only if its record was committed. All under one key, in sequence order: the chain's lock
 * is held until commit, so outbox rows are numbered in chain order and the relay publishes them
 * in that order to one partition.
 */
export async function publishAppended(
  transaction: EntityManager,
  entries: readonly ChainedRecord[],
): Promise<void> {
  if (entries.length === 0) return;
  // The outbox of this service's schema: the relay's wake-up channel is named after it.
  const { schema } = transaction.connection.options as { schema?: string };
  const outbox = new Outbox('audit', schema ?? 'public', DEFAULT_TENANT);
  await outbox.writeMany(
    transaction,
    entries.map((entry) => ({
      definition: AuditStreamEvents.appended,
      subject: AUDIT_STREAM_KEY,
      tenant: tenantOf(entry),
      data: {
        sequence: entry.sequence,
        previousHash: entry.previousHash.toString('hex'),
        hash: entry.hash.toString('hex'),
        record: entry.record,
      },
    })),
  );
}
