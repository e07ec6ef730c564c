import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * Sign-in sessions at the provider ended on purpose: by their holder (one session or all of them
 * from the account centre), by an administrator, or because the account was closed. Keyed by
 * account id; a session is named by its public uid, never by its cookie value.
 */
export const SessionTopic = defineTopic({
  service: 'identity',
  aggregate: 'session',
  version: 1,
  description:
    'Sign-in sessions revoked by their holder, an administrator or an account closure, keyed by account id; never cookie values.',
});

/** Who ended the session: the account holder or an administrator. */
export const SESSION_REVOKERS = ['self', 'admin'] as const;

/** Why: an explicit revocation, or a change of the account's status that ends every session. */
export const SESSION_REVOCATION_REASONS = [
  'revoked',
  'account-deletion-requested',
  'account-disabled',
  'account-deleted',
  'password-changed',
] as const;

export const SessionEvents = {
  revoked: defineEvent({
    type: 'rampart.identity.session.revoked',
    topic: SessionTopic,
    data: z.strictObject({
      accountId: z.uuid(),
      /** The session's public identifier (oidc-provider's `uid`), not its cookie value. */
      sessionUid: z.string().min(1).max(128),
      by: z.enum(SESSION_REVOKERS),
      /** `user:<id>` of the holder, or the administrator's token subject as the API saw it. */
      actor: z.string().min(1).max(1100),
      reason: z.enum(SESSION_REVOCATION_REASONS),
      /** How many grants the session had authorised; each is revoked with its own event. */
      grantsRevoked: z.number().int().min(0),
    }),
    description:
      'A sign-in session was ended before its timeout; every grant it authorised was revoked with it and back-channel logout was sent to the clients that asked for it.',
  }),
};
