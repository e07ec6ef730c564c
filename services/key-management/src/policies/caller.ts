import type { Principal } from '@rampart/platform';

/** How a principal appears in key events: who, never the token or its scopes. */
export function callerData(principal: Principal): {
  kind: 'workload' | 'user';
  id: string;
  clientId?: string;
} {
  return principal.kind === 'user' && principal.clientId
    ? { kind: 'user', id: principal.id, clientId: principal.clientId }
    : { kind: principal.kind, id: principal.id };
}
