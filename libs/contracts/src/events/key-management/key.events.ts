import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/** Keys of the key-management service: what happened to which key, never key material. */
export const KeyTopic = defineTopic({
  service: 'key-management',
  aggregate: 'key',
  version: 1,
  description:
    'Key lifecycle: creation, rotation, settings, version states and destruction, keyed by key name.',
});

const keyReference = {
  name: z.string(),
  keyRing: z.string(),
  purpose: z.enum(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'MAC', 'WRAP']),
  /** `workload:<service>`, `user:<sub>`, or `scheduler` for scheduled rotation and destruction. */
  caller: z.string(),
};
const version = z.number().int().positive();

export const KeyEvents = {
  created: defineEvent({
    type: 'rampart.key-management.key.created',
    topic: KeyTopic,
    data: z.strictObject({ ...keyReference, algorithm: z.string(), version }),
    description: 'A key was created with its first version.',
  }),
  rotated: defineEvent({
    type: 'rampart.key-management.key.rotated',
    topic: KeyTopic,
    data: z.strictObject({ ...keyReference, version }),
    description: 'A new key version became primary; older versions still decrypt and verify.',
  }),
  updated: defineEvent({
    type: 'rampart.key-management.key.updated',
    topic: KeyTopic,
    data: z.strictObject({
      ...keyReference,
      minDecryptionVersion: z.number().int().positive(),
      rotationPeriodSeconds: z.number().int().positive().nullable(),
      destructionWaitingDays: z.number().int().positive(),
    }),
    description:
      "A key's settings changed: minimum decryption version, rotation schedule, waiting period.",
  }),
  versionStateChanged: defineEvent({
    type: 'rampart.key-management.key.version-state-changed',
    topic: KeyTopic,
    data: z.strictObject({ ...keyReference, version, state: z.enum(['ENABLED', 'DISABLED']) }),
    description: 'A key version was disabled (it refuses every operation) or enabled again.',
  }),
  destructionScheduled: defineEvent({
    type: 'rampart.key-management.key.destruction-scheduled',
    topic: KeyTopic,
    data: z.strictObject({
      ...keyReference,
      versions: z.array(version),
      destroyAt: z.iso.datetime(),
    }),
    description: 'Key versions will be destroyed at destroyAt unless the destruction is cancelled.',
  }),
  destructionCancelled: defineEvent({
    type: 'rampart.key-management.key.destruction-cancelled',
    topic: KeyTopic,
    data: z.strictObject({ ...keyReference, versions: z.array(version) }),
    description:
      'A scheduled destruction was cancelled; the versions are back in their former state.',
  }),
  versionDestroyed: defineEvent({
    type: 'rampart.key-management.key.version-destroyed',
    topic: KeyTopic,
    data: z.strictObject({ ...keyReference, version, erasure: z.boolean() }),
    description:
      'Key version material was erased: everything encrypted under it is unreadable (crypto-shredding). erasure: destroyed at once for an erasure request.',
  }),
};
