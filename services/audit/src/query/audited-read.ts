import { AuditQueryEvents } from '@rampart/contracts';
import { describePrincipal, type Outbox, type Principal } from '@rampart/platform';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';

type QueryPerformed = z.infer<(typeof AuditQueryEvents)['performed']['data']>;

/**
 * Records a read of the log (a query page or an export) as `rampart.audit.query.performed`, in the
 * transaction that read it: who asked and with which client, what they asked, how many records
 * they got. Never the records themselves.
 */
export async function recordAuditedRead(
  outbox: Outbox,
  transaction: EntityManager,
  caller: Principal,
  read: Omit<QueryPerformed, 'actor' | 'clientId'>,
): Promise<void> {
  const actor = describePrincipal(caller);
  await outbox.write(transaction, AuditQueryEvents.performed, {
    subject: actor.slice(0, 256),
    data: {
      ...read,
      actor,
      ...(caller.kind === 'user' && caller.clientId ? { clientId: caller.clientId } : {}),
    },
  });
}
