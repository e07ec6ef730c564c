import { describe, expect, it } from '@jest/globals';
import { KEY_OPERATIONS } from '@rampart/contracts';
import type { Principal } from '@rampart/platform';
import {
  ADMINISTRATIVE_OPERATIONS,
  allowedByDefault,
  compile,
  grants,
  membersOf,
  normalize,
} from './key-policy.js';

const identity: Principal = { kind: 'workload', id: 'identity' };
const admin: Principal = { kind: 'user', id: 'alice', scopes: ['openid', 'kms.admin'] };
const reader: Principal = { kind: 'user', id: 'bob', scopes: ['orders.read'] };

describe('key policy model', () => {
  it('lets a service do everything on the ring named after it, and nothing elsewhere', () => {
    for (const operation of KEY_OPERATIONS) {
      expect(allowedByDefault(identity, operation, 'identity')).toBe(true);
      expect(allowedByDefault(identity, operation, 'consent')).toBe(false);
      expect(allowedByDefault(identity, operation, 'identity-archive')).toBe(false);
    }
  });

  it('lets kms.admin administer every ring but use no key', () => {
    expect(KEY_OPERATIONS.filter((operation) => allowedByDefault(admin, operation, 'any'))).toEqual(
      [...ADMINISTRATIVE_OPERATIONS],
    );
    for (const use of ['encrypt', 'decrypt', 'rewrap', 'generateDataKey', 'sign', 'mac'] as const) {
      expect(allowedByDefault(admin, use, 'any')).toBe(false);
    }
    for (const operation of KEY_OPERATIONS) {
      expect(allowedByDefault(reader, operation, 'any')).toBe(false);
    }
  });

  it('gives a user named by sub no workload ownership of a ring called like them', () => {
    const impostor: Principal = { kind: 'user', id: 'identity', scopes: [] };
    expect(allowedByDefault(impostor, 'decrypt', 'identity')).toBe(false);
  });

  it('matches bindings by workload, user and scope, and by operation', () => {
    const policy = compile([
      { member: 'workload:consent', operations: ['decrypt'] },
      { member: 'user:bob', operations: ['encrypt'] },
      { member: 'scope:orders.read', operations: ['decrypt'] },
    ]);
    const consent: Principal = { kind: 'workload', id: 'consent' };
    expect(grants(policy, membersOf(consent), 'decrypt')).toBe(true);
    expect(grants(policy, membersOf(consent), 'encrypt')).toBe(false);
    expect(grants(policy, membersOf(reader), 'encrypt')).toBe(true);
    expect(grants(policy, membersOf(reader), 'decrypt')).toBe(true);
    expect(grants(policy, membersOf(admin), 'decrypt')).toBe(false);
    // A user whose sub looks like a workload member is still a user.
    const tricky: Principal = { kind: 'user', id: 'workload:consent', scopes: [] };
    expect(membersOf(tricky)).toEqual(['user:workload:consent']);
    expect(grants(policy, membersOf(tricky), 'decrypt')).toBe(false);
    expect(grants(undefined, membersOf(consent), 'decrypt')).toBe(false);
  });

  it('computes a user principal’s members once per principal object', () => {
    expect(membersOf(reader)).toBe(membersOf(reader));
  });

  it('normalizes: one binding per member, catalogue order, sorted, empty ones dropped', () => {
    expect(
      normalize([
        { member: 'workload:identity', operations: ['decrypt'] },
        { member: 'scope:b', operations: [] },
        { member: 'user:a', operations: ['setPolicy', 'create'] },
        { member: 'workload:identity', operations: ['encrypt', 'decrypt'] },
      ]),
    ).toEqual([
      { member: 'user:a', operations: ['create', 'setPolicy'] },
      { member: 'workload:identity', operations: ['encrypt', 'decrypt'] },
    ]);
  });
});
