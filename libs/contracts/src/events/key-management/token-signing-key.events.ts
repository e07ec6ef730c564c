import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';
import {
  TOKEN_SIGNING_ALGORITHMS,
  TOKEN_SIGNING_KEY_STATES,
} from '../../kms/token-signing-keys.js';

/** Identity's token-signing keys moving through NEXT -> CURRENT -> PREVIOUS -> RETIRED. */
export const TokenSigningKeyTopic = defineTopic({
  service: 'key-management',
  aggregate: 'token-signing-key',
  version: 1,
  description:
    'State changes of the keys identity signs tokens with, keyed by kid. Never material.',
});

const stateChange = z.strictObject({
  kid: z.string(),
  algorithm: z.enum(TOKEN_SIGNING_ALGORITHMS),
  /** The state the key is in after this change. */
  state: z.enum(TOKEN_SIGNING_KEY_STATES),
  /** First keys at start, the rotation schedule or grace period, or a caller's request. */
  trigger: z.enum(['bootstrap', 'schedule', 'on-demand']),
  /** The workload that asked, for on-demand rotations. */
  caller: z.string().optional(),
});

export const TokenSigningKeyEvents = {
  created: defineEvent({
    type: 'rampart.key-management.token-signing-key.created',
    topic: TokenSigningKeyTopic,
    data: stateChange,
    description:
      'A signing key was generated: NEXT (published, not yet signing), or CURRENT for the very first key.',
  }),
  activated: defineEvent({
    type: 'rampart.key-management.token-signing-key.activated',
    topic: TokenSigningKeyTopic,
    data: stateChange,
    description: 'The NEXT key became CURRENT: identity signs with it from now on.',
  }),
  deactivated: defineEvent({
    type: 'rampart.key-management.token-signing-key.deactivated',
    topic: TokenSigningKeyTopic,
    data: stateChange,
    description:
      'The CURRENT key became PREVIOUS: it signs nothing more but stays published for the grace period.',
  }),
  retired: defineEvent({
    type: 'rampart.key-management.token-signing-key.retired',
    topic: TokenSigningKeyTopic,
    data: stateChange,
    description:
      'A PREVIOUS key left the JWK Set after its grace period; its private key was erased.',
  }),
};
