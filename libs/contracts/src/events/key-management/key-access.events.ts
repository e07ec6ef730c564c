import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../errors/error-codes.js';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * Everything a caller can do with or to a key. Key policies grant these by name, and every call
 * is audited under one of them.
 */
export const KEY_OPERATIONS = [
  'create',
  'get',
  'encrypt',
  'decrypt',
  'rewrap',
  'generateDataKey',
  'rotate',
  'sign',
  'verify',
  'mac',
  'verifyMac',
  'update',
  'disableVersion',
  'enableVersion',
  'scheduleDestruction',
  'cancelDestruction',
  /** Erasure without the waiting period: per-subject keys, for an erasure request. */
  'destroyNow',
  'getPolicy',
  'setPolicy',
] as const;

export type KeyOperation = (typeof KEY_OPERATIONS)[number];

/** How a caller appears in key-access events: who, never their credentials or scopes. */
const callerData = z.strictObject({
  kind: z.enum(['workload', 'user']),
  /** The service name of a workload, or the `sub` of a user's access token. */
  id: z.string().min(1).max(1024),
  /** The OAuth client a user's token was issued to. */
  clientId: z.string().min(1).max(1024).optional(),
});

const errorCodes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** Audit of key use: which key and version, which operation, who, and how it ended. */
export const KeyAccessTopic = defineTopic({
  service: 'key-management',
  aggregate: 'key-access',
  version: 1,
  description:
    'Audit trail of every key-management call (allowed or refused), keyed by key name; never key material or data.',
});

/** Changes of key policies: who may use which key. */
export const KeyPolicyTopic = defineTopic({
  service: 'key-management',
  aggregate: 'key-policy',
  version: 1,
  description: 'Key-policy changes on key rings and keys, keyed by the resource.',
});

export const KeyAccessEvents = {
  accessed: defineEvent({
    type: 'rampart.key-management.key.accessed',
    topic: KeyAccessTopic,
    data: z.strictObject({
      ring: z.string().min(1),
      /** Absent for calls on a key ring itself (its policy). */
      key: z.string().min(1).optional(),
      /** The key version the call used, when it got that far. */
      version: z.number().int().positive().optional(),
      operation: z.enum(KEY_OPERATIONS),
      caller: callerData,
      /** `ok`, or the error code the caller was answered with (`forbidden`, `decryption-failed`, ...). */
      outcome: z.enum(['ok', ...errorCodes]),
      /**
       * How many identical calls (same key, version, operation, caller and outcome) this event
       * stands for: calls are coalesced within one flush window of the audit buffer.
       */
      calls: z.number().int().positive(),
      /** Items processed by those calls, for batch operations. */
      items: z.number().int().nonnegative().optional(),
      firstAt: z.iso.datetime({ offset: true }),
      lastAt: z.iso.datetime({ offset: true }),
    }),
    description:
      'Calls on a key were made: one event per distinct key, version, operation, caller and outcome within a flush window (about 50 ms; longer while writes are retried), with the number of calls.',
  }),
};

const bindingData = z.strictObject({
  member: z.string(),
  operations: z.array(z.enum(KEY_OPERATIONS)),
});

export const KeyPolicyEvents = {
  updated: defineEvent({
    type: 'rampart.key-management.key-policy.updated',
    topic: KeyPolicyTopic,
    data: z.strictObject({
      ring: z.string().min(1),
      /** Absent when the policy is the key ring's own. */
      key: z.string().min(1).optional(),
      /** Increases by one with every change; 1 for the first policy of the resource. */
      version: z.number().int().positive(),
      bindings: z.array(bindingData),
      caller: callerData,
    }),
    description: 'The policy of a key ring or key was replaced; carries the whole new policy.',
  }),
};
