import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * End-to-end encrypted objects of the key-management service: who may read which object, never
 * content or keys (the service holds neither in the clear). Keyed by object id.
 */
export const SharedObjectTopic = defineTopic({
  service: 'key-management',
  aggregate: 'shared-object',
  version: 1,
  description:
    'End-to-end encrypted objects: creation, shares and revocations, keyed by object id.',
});

const sharedObjectData = z.strictObject({
  objectId: z.uuid(),
  /** The owning user (token `sub`). */
  owner: z.string(),
  /** The object's version after the change: it goes up with each new data key (revocation). */
  version: z.number().int().positive(),
  /** The user granted or refused access; absent on creation. */
  recipient: z.string().optional(),
  /** How many users can read the object after the change, the owner included. */
  recipients: z.number().int().positive(),
});

export const SharedObjectEvents = {
  created: defineEvent({
    type: 'rampart.key-management.shared-object.created',
    topic: SharedObjectTopic,
    data: sharedObjectData,
    description: 'A user stored an end-to-end encrypted object with keys wrapped for its readers.',
  }),
  shared: defineEvent({
    type: 'rampart.key-management.shared-object.shared',
    topic: SharedObjectTopic,
    data: sharedObjectData,
    description: "The owner wrapped the object's data key for one more reader.",
  }),
  revoked: defineEvent({
    type: 'rampart.key-management.shared-object.revoked',
    topic: SharedObjectTopic,
    data: sharedObjectData,
    description:
      'The owner removed a reader: the object was re-encrypted under a new data key for the rest.',
  }),
};
