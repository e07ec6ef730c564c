import { Injectable } from '@nestjs/common';
import { KeyPolicyEvents, type KeyOperation } from '@rampart/contracts';
import { describePrincipal, Outbox, type Principal } from '@rampart/platform';
import type { PolicyView } from './dto/key-policies.dto.js';
import {
  allowedByDefault,
  compile,
  grants,
  membersOf,
  normalize,
  type CompiledPolicy,
  type KeyPolicyBinding,
} from './key-policy.js';
import { operationForbidden, policyVersionConflict } from './key-policies.errors.js';
import { KeyPoliciesRepository } from './key-policies.repository.js';
import { PolicyCache } from './policy-cache.js';
import { callerData } from './caller.js';

/** A key ring, or one key of a ring. */
export interface KeyTarget {
  ring: string;
  key?: string | undefined;
}

const cacheId = (target: KeyTarget) =>
  target.key === undefined ? `${target.ring}/` : `${target.ring}/${target.key}`;

/**
 * Who may do what with which key: `authorize` on every call (deny by default), and reading and
 * replacing the policies of key rings and keys. See `key-policy.ts` for the model.
 */
@Injectable()
export class KeyPolicies {
  private readonly cache = new PolicyCache();

  constructor(
    private readonly policies: KeyPoliciesRepository,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Resolves if the caller may do the operation on the key (or, without a key, on the ring);
   * throws `forbidden` otherwise. For a key, the ring's policy and the key's own policy both count.
   * Costs no query once both policies are cached.
   */
  async authorize(principal: Principal, operation: KeyOperation, target: KeyTarget): Promise<void> {
    if (allowedByDefault(principal, operation, target.ring)) return;
    const members = membersOf(principal);
    if (grants(await this.compiled({ ring: target.ring }), members, operation)) return;
    if (target.key !== undefined && grants(await this.compiled(target), members, operation)) {
      return;
    }
    throw operationForbidden(operation, target);
  }

  /** The policy of a ring or key as stored (not cached): an empty one at version 0 if none. */
  async getPolicy(principal: Principal, target: KeyTarget): Promise<PolicyView> {
    await this.authorize(principal, 'getPolicy', target);
    const row = await this.policies.find(target.ring, target.key);
    return {
      ...resource(target),
      bindings: row?.bindings ?? [],
      version: row?.version ?? 0,
      ...(row ? { updatedAt: row.updated_at.toISOString(), updatedBy: row.updated_by } : {}),
    };
  }

  /**
   * Replaces the whole policy of a ring or key, and records the change as an event in the same
   * transaction. `expectedVersion` guards against overwriting a change made in between.
   */
  async setPolicy(
    principal: Principal,
    target: KeyTarget,
    bindings: readonly KeyPolicyBinding[],
    expectedVersion?: number,
  ): Promise<PolicyView> {
    await this.authorize(principal, 'setPolicy', target);
    const stored = normalize(bindings);
    const updatedBy = describePrincipal(principal);
    const written = await this.policies.transaction(async (transaction) => {
      const replaced = await this.policies.replace(
        transaction,
        target,
        stored,
        expectedVersion,
        updatedBy,
      );
      // Throwing rolls back whatever the compare-and-set may have inserted.
      if (!replaced) throw policyVersionConflict(expectedVersion ?? 0);
      await this.outbox.write(transaction, KeyPolicyEvents.updated, {
        subject:
          target.key === undefined
            ? `keyRings/${target.ring}`
            : `keyRings/${target.ring}/keys/${target.key}`,
        data: {
          ...resource(target),
          version: replaced.version,
          bindings: stored,
          caller: callerData(principal),
        },
      });
      return replaced;
    });
    this.cache.forget(cacheId(target));
    return {
      ...resource(target),
      bindings: stored,
      version: written.version,
      updatedAt: written.updatedAt.toISOString(),
      updatedBy,
    };
  }

  private compiled(target: KeyTarget): Promise<CompiledPolicy | undefined> {
    return this.cache.get(cacheId(target), async () => {
      const row = await this.policies.find(target.ring, target.key);
      return row && row.bindings.length > 0 ? compile(row.bindings) : undefined;
    });
  }
}

function resource(target: KeyTarget): { ring: string; key?: string } {
  return target.key === undefined ? { ring: target.ring } : { ring: target.ring, key: target.key };
}
