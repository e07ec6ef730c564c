import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/** Keys of the key-management service: what happened to which key, never key material. */
export const KeyTopic = defineTopic({
  service: 'key-management',
  aggregate: 'key',
  version: 1,
  description: 'Key lifecycle: creation and rotation of keys, keyed by key name.',
});

const keyVersionData = z.strictObject({
  name: z.string(),
  purpose: z.enum(['ENCRYPT_DECRYPT']),
  version: z.number().int().positive(),
  caller: z.string(),
});

export const KeyEvents = {
  created: defineEvent({
    type: 'rampart.key-management.key.created',
    topic: KeyTopic,
    data: keyVersionData,
    description: 'A key was created with its first version.',
  }),
  rotated: defineEvent({
    type: 'rampart.key-management.key.rotated',
    topic: KeyTopic,
    data: keyVersionData,
    description: 'A new key version became primary; older versions still decrypt.',
  }),
};
