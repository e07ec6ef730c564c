import type { KeyOperation } from '@rampart/contracts';
import { RampartError } from '@rampart/platform';

/**
 * Names the operation and the resource the caller asked for, and nothing else: not which rule
 * was missing, not what the policy holds, not whether the key exists.
 */
export const operationForbidden = (
  operation: KeyOperation,
  target: { ring: string; key?: string | undefined },
) =>
  new RampartError(
    'forbidden',
    target.key === undefined
      ? `The caller may not ${operation} on key ring ${target.ring}.`
      : `The caller may not ${operation} on key ${target.key}.`,
  );

export const policyVersionConflict = (expected: number) =>
  new RampartError(
    'conflict',
    `The policy is no longer at version ${expected}: read it again and reapply the change.`,
  );
