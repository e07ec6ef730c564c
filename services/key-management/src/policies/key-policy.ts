import { KEY_OPERATIONS, type KeyOperation } from '@rampart/contracts';
import type { Principal } from '@rampart/platform';

/**
 * The key-policy model, as pure functions (the service adds storage and caching around them).
 *
 * A policy is a list of bindings `{ member, operations }` attached to a key ring or to one key of
 * a ring. Members name callers:
 *   - `workload:<service>`: a platform service, proven by its workload assertion;
 *   - `scope:<scope>`: any user or application whose access token carries the scope;
 *   - `user:<sub>`: one user, by the `sub` of their access token.
 * A call is allowed if a built-in rule or a binding of the key ring's policy or of the key's own
 * policy grants the operation to a member the caller answers to. Nothing else is allowed.
 */

export interface KeyPolicyBinding {
  member: string;
  operations: KeyOperation[];
}

/** The scope of key administrators: they manage keys and policies but do not use keys. */
export const KEY_ADMIN_SCOPE = 'kms.admin';

/**
 * What `kms.admin` may do without any binding: manage keys and their policies, never use them
 * (encrypt, decrypt, sign, ...). Separation of duties as in Google Cloud KMS's admin role: a
 * binding must grant use explicitly, and granting it is itself an audited policy change.
 */
export const ADMINISTRATIVE_OPERATIONS: ReadonlySet<KeyOperation> = new Set<KeyOperation>([
  'create',
  'get',
  'rotate',
  'update',
  'disableVersion',
  'enableVersion',
  'scheduleDestruction',
  'cancelDestruction',
  'getPolicy',
  'setPolicy',
]);

/**
 * Stands in for the ring of a key the caller must not reach: one that does not exist, or one of
 * the service's internal (`system`) keys. No ring name can be "-", so no binding can name it and
 * no built-in rule opens it, `kms.admin` included.
 */
export const UNREACHABLE_RING = '-';

/** The ring of per-subject keys, shared by the services that hold personal data. */
export const SUBJECT_KEY_RING = 'subjects';
const PERSONAL_DATA_SERVICES: ReadonlySet<string> = new Set(['identity', 'consent', 'audit']);
/** What those services may do with per-subject keys: use them and shred them, not administer them. */
const SUBJECT_KEY_OPERATIONS: ReadonlySet<KeyOperation> = new Set<KeyOperation>([
  'get',
  'generateDataKey',
  'decrypt',
  'rewrap',
  'scheduleDestruction',
  'cancelDestruction',
  'destroyNow',
]);

/** A policy ready for the hot path: member -> operations granted to it. */
export type CompiledPolicy = ReadonlyMap<string, ReadonlySet<KeyOperation>>;

/**
 * The built-in rules, which need no stored policy:
 *   - a service owns the key ring named after it (`identity` uses every key of ring `identity`),
 *     so services need no configuration for their own keys;
 *   - the services that hold personal data (identity, consent, audit) use and shred the
 *     per-subject keys of ring `subjects`;
 *   - `kms.admin` may do the administrative operations on every ring.
 */
export function allowedByDefault(
  principal: Principal,
  operation: KeyOperation,
  ring: string,
): boolean {
  if (ring === UNREACHABLE_RING) return false;
  if (principal.kind === 'workload') {
    return (
      principal.id === ring ||
      (ring === SUBJECT_KEY_RING &&
        PERSONAL_DATA_SERVICES.has(principal.id) &&
        SUBJECT_KEY_OPERATIONS.has(operation))
    );
  }
  return ADMINISTRATIVE_OPERATIONS.has(operation) && principal.scopes.includes(KEY_ADMIN_SCOPE);
}

/**
 * The member names a principal answers to. A user principal object is reused for as long as its
 * token is cached by the access guard, so its list is computed once per token, not per call.
 */
const userMembers = new WeakMap<Principal, readonly string[]>();

export function membersOf(principal: Principal): readonly string[] {
  if (principal.kind === 'workload') return [`workload:${principal.id}`];
  let members = userMembers.get(principal);
  if (!members) {
    members = [`user:${principal.id}`, ...principal.scopes.map((scope) => `scope:${scope}`)];
    userMembers.set(principal, members);
  }
  return members;
}

export function grants(
  policy: CompiledPolicy | undefined,
  members: readonly string[],
  operation: KeyOperation,
): boolean {
  if (!policy) return false;
  for (const member of members) {
    if (policy.get(member)?.has(operation)) return true;
  }
  return false;
}

export function compile(bindings: readonly KeyPolicyBinding[]): CompiledPolicy {
  const compiled = new Map<string, Set<KeyOperation>>();
  for (const { member, operations } of bindings) {
    const granted = compiled.get(member) ?? new Set<KeyOperation>();
    for (const operation of operations) granted.add(operation);
    compiled.set(member, granted);
  }
  return compiled;
}

/**
 * One binding per member, operations in catalogue order, members sorted, empty bindings dropped:
 * the stored form, so two equivalent policies look the same and diffs between versions are clean.
 */
export function normalize(bindings: readonly KeyPolicyBinding[]): KeyPolicyBinding[] {
  return [...compile(bindings)]
    .filter(([, operations]) => operations.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([member, operations]) => ({
      member,
      operations: KEY_OPERATIONS.filter((operation) => operations.has(operation)),
    }));
}
