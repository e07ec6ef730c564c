/**
 * Who called, as the access guard admits them. A local copy of the platform's `Principal` until
 * the access-token work lands on main; replace the import sites with `@rampart/platform` then.
 */
export type Principal =
  | { kind: 'workload'; id: string }
  | { kind: 'user'; id: string; scopes: readonly string[]; clientId?: string };

/** How a principal appears in stored records: `workload:<service>` or `user:<sub>`. */
export function describeCaller(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** How a principal appears in events: who, never the token or its scopes. */
export function callerData(principal: Principal): {
  kind: 'workload' | 'user';
  id: string;
  clientId?: string;
} {
  return principal.kind === 'user' && principal.clientId !== undefined
    ? { kind: 'user', id: principal.id, clientId: principal.clientId }
    : { kind: principal.kind, id: principal.id };
}
