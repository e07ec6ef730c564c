import { AUDIT_STREAM_KEY, AuditStreamEvents } from '@rampart/contracts';
import type { EntityManager } from 'typeorm';
import type { ChainedRecord } from '../chain/audit-chain.repository.js';
import { AUDIT_DEFAULT_TENANT, auditOutbox } from '../messaging/audit-outbox.js';

function tenantOf(entry: ChainedRecord): string {
  const tenant = entry.record.metadata['tenant_uid'];
  return typeof tenant === 'string' && tenant.length > 0 && tenant.length <= 64
    ? tenant
    : AUDIT_DEFAULT_TENANT;
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
  await auditOutbox(transaction).writeMany(
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
