import { describe, expect, it } from '@jest/globals';
import { POLICY_VERSION_MAX, setPolicyRequest } from './key-policies.dto.js';

describe('setPolicyRequest', () => {
  it('accepts a version the policy store can hold', () => {
    expect(setPolicyRequest.parse({ bindings: [], version: POLICY_VERSION_MAX })).toEqual({
      bindings: [],
      version: POLICY_VERSION_MAX,
    });
  });

  // Found by schemathesis: a larger number reached PostgreSQL and failed there as a 500.
  it('refuses a version beyond the PostgreSQL integer column', () => {
    expect(
      setPolicyRequest.safeParse({ bindings: [], version: POLICY_VERSION_MAX + 1 }).success,
    ).toBe(false);
    expect(
      setPolicyRequest.safeParse({ bindings: [], version: 9_007_199_254_740_990 }).success,
    ).toBe(false);
  });
});
