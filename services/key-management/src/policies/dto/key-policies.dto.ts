import { z } from 'zod';
import { isServiceName, KEY_OPERATIONS } from '@rampart/contracts';
import { POSTGRES_INTEGER_MAX } from '../../database/limits.js';

/** An OAuth scope token (RFC 6749 section 3.3), bounded. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** A token `sub`: printable, no spaces or control characters. */
const SUBJECT = /^[\x21-\x7e]{1,255}$/;

const MAX_BINDINGS = 100;

export const policyMember = z.string().refine(
  (member) => {
    const separator = member.indexOf(':');
    const kind = member.slice(0, separator);
    const name = member.slice(separator + 1);
    if (separator < 0) return false;
    if (kind === 'workload') return isServiceName(name);
    if (kind === 'scope') return SCOPE.test(name);
    if (kind === 'user') return SUBJECT.test(name);
    return false;
  },
  {
    message:
      'must be workload:<a Rampart service>, scope:<an OAuth scope> or user:<an access-token subject>',
  },
);

export const policyBinding = z.strictObject({
  member: policyMember,
  operations: z.array(z.enum(KEY_OPERATIONS)).min(1),
});

/** The largest policy version the store holds (`key_policies.version` is a PostgreSQL integer). */
export const POLICY_VERSION_MAX = POSTGRES_INTEGER_MAX;

export const setPolicyRequest = z.strictObject({
  bindings: z.array(policyBinding).max(MAX_BINDINGS),
  /**
   * Optimistic concurrency: the version the change is based on (0 for a resource without a
   * policy). A policy changed in between answers 409 instead of silently losing that change.
   */
  version: z.number().int().nonnegative().max(POLICY_VERSION_MAX).optional(),
});

export const policyView = z.object({
  ring: z.string(),
  key: z.string().optional(),
  bindings: z.array(z.object({ member: z.string(), operations: z.array(z.enum(KEY_OPERATIONS)) })),
  version: z.number().int().describe('0 while the resource has no policy of its own'),
  updatedAt: z.string().optional(),
  updatedBy: z.string().optional(),
});

export type SetPolicyRequest = z.infer<typeof setPolicyRequest>;
export type PolicyView = z.infer<typeof policyView>;
