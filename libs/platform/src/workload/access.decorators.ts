import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { ServiceName } from '@rampart/contracts';
import type { UserPrincipal } from './access-token.js';

export const ACCESS_POLICY = 'rampart:access-policy';
export const ACCESS_TOKEN_POLICY = 'rampart:access-token-policy';

export type AccessPolicy =
  { kind: 'public' } | { kind: 'workloads'; callers: readonly ServiceName[] };

export interface AccessTokenPolicy {
  /** Every one of these scopes must be granted to the token. */
  scopes: readonly string[];
}

/** Who called: a platform service (workload assertion) or a user or application (access token). */
export type Principal = { kind: 'workload'; id: ServiceName } | UserPrincipal;

/** Anyone may call this route (health, discovery, OpenAPI). */
export const Public = () => SetMetadata(ACCESS_POLICY, { kind: 'public' } satisfies AccessPolicy);

/** Only these services may call this route, proven by a workload assertion. */
export const AllowWorkloads = (...callers: ServiceName[]) =>
  SetMetadata(ACCESS_POLICY, { kind: 'workloads', callers } satisfies AccessPolicy);

/**
 * Callers with an access token from identity that grants all of `scopes` may call this route.
 * Stacks with `@AllowWorkloads`: a request then proves either identity.
 */
export const AllowAccessTokens = (...scopes: string[]) =>
  SetMetadata(ACCESS_TOKEN_POLICY, { scopes } satisfies AccessTokenPolicy);

/** The caller the access guard admitted. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal =>
    principalOf(context.switchToHttp().getRequest<{ principal?: Principal }>()),
);

export function principalOf(request: { principal?: Principal }): Principal {
  // The guard sets it on every non-public route; a public route asking for it is a bug.
  if (!request.principal) throw new Error('No principal: the route is public');
  return request.principal;
}

/** How a principal appears in events and logs. */
export function describePrincipal(principal: Principal): string {
  return principal.kind === 'workload' ? `workload:${principal.id}` : `user:${principal.id}`;
}
