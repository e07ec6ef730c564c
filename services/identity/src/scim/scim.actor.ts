import type { Principal } from '@rampart/platform';

/** The provisioning client as events record it: the token's subject and client. */
export function scimActor(principal: Principal): { subject: string; clientId?: string } {
  if (principal.kind === 'workload') return { subject: `workload:${principal.id}` };
  return {
    subject: principal.id,
    ...(principal.clientId === undefined ? {} : { clientId: principal.clientId }),
  };
}
