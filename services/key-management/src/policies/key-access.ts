import { Injectable } from '@nestjs/common';
import type { KeyOperation } from '@rampart/contracts';
import { RampartError } from '@rampart/platform';
import { KeyAuditTrail } from '../audit/key-audit-trail.js';
import { KeyPolicies, type KeyTarget } from './key-policies.service.js';
import type { Principal } from '@rampart/platform';

/** What an operation's result tells the audit trail. */
export interface AuditedResult {
  version?: number | undefined;
  items?: number | undefined;
}

/**
 * The guard around one call on a key, in the order that keeps a KMS accountable: refuse while the
 * audit trail cannot take records, check the policy, do the work, and record the outcome (a
 * refusal or failure is recorded too, with the code the caller is answered with).
 */
@Injectable()
export class KeyAccess {
  constructor(
    private readonly policies: KeyPolicies,
    private readonly trail: KeyAuditTrail,
  ) {}

  async perform<T>(
    caller: Principal,
    operation: KeyOperation,
    target: KeyTarget,
    work: () => Promise<T>,
    audited: (result: T) => AuditedResult = () => ({}),
  ): Promise<T> {
    this.trail.ensureCapacity();
    const record = { ...target, operation, caller };
    let result: T;
    try {
      await this.policies.authorize(caller, operation, target);
      result = await work();
    } catch (error) {
      this.trail.record({
        ...record,
        outcome: error instanceof RampartError ? error.code : 'internal',
      });
      throw error;
    }
    this.trail.record({ ...record, outcome: 'ok', ...audited(result) });
    return result;
  }
}
