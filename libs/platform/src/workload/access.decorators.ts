import { SetMetadata } from '@nestjs/common';
import type { ServiceName } from '@rampart/contracts';

export const ACCESS_POLICY = 'rampart:access-policy';

export type AccessPolicy =
  { kind: 'public' } | { kind: 'workloads'; callers: readonly ServiceName[] };

/** Anyone may call this route (health, discovery, OpenAPI). */
export const Public = () => SetMetadata(ACCESS_POLICY, { kind: 'public' } satisfies AccessPolicy);

/** Only these services may call this route, proven by a workload assertion. */
export const AllowWorkloads = (...callers: ServiceName[]) =>
  SetMetadata(ACCESS_POLICY, { kind: 'workloads', callers } satisfies AccessPolicy);
