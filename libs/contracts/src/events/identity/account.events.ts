import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * Account lifecycle of the identity service, keyed by account id. Events name the account and
 * what happened; never a password, a password hash or a verification token.
 */
export const AccountTopic = defineTopic({
  service: 'identity',
  aggregate: 'account',
  version: 1,
  description:
    'Account lifecycle (registration, e-mail verification, profile and password changes, deletion request), keyed by account id; never passwords, hashes or tokens.',
});

/** Sign-in attempts, keyed by account id (or `unknown` when no account matched). */
export const LoginTopic = defineTopic({
  service: 'identity',
  aggregate: 'login',
  version: 1,
  description:
    'Password sign-in attempts with their outcome, IP address and user agent; never the password.',
});

const accountId = z.uuid();
/** Why a sign-in failed; stable codes for alerting and the security log. */
export const LOGIN_FAILURE_REASONS = [
  'unknown-user',
  'bad-password',
  'disabled',
  'deletion-requested',
] as const;
export type LoginFailureReason = (typeof LOGIN_FAILURE_REASONS)[number];

const attemptContext = {
  /** The client's address as the service saw it (after trusted proxies). */
  ip: z.string().min(1).max(64),
  userAgent: z.string().max(1024).optional(),
};

export const AccountEvents = {
  registered: defineEvent({
    type: 'rampart.identity.account.registered',
    topic: AccountTopic,
    data: z.strictObject({
      accountId,
      username: z.string().min(1).max(64),
      /** The part after `@` only: the full address is personal data the log does not need. */
      emailDomain: z.string().min(1).max(253),
    }),
    description: 'An account was created; its e-mail address is not yet verified.',
  }),
  emailVerified: defineEvent({
    type: 'rampart.identity.account.email-verified',
    topic: AccountTopic,
    data: z.strictObject({ accountId }),
    description: 'The account holder opened the verification link sent to their e-mail address.',
  }),
  passwordChanged: defineEvent({
    type: 'rampart.identity.account.password-changed',
    topic: AccountTopic,
    data: z.strictObject({ accountId }),
    description: 'The account holder changed their password (after proving the current one).',
  }),
  profileUpdated: defineEvent({
    type: 'rampart.identity.account.profile-updated',
    topic: AccountTopic,
    data: z.strictObject({
      accountId,
      /** The account's version after the change (SCIM's ETag). */
      version: z.number().int().positive(),
      /** Which profile attributes changed; their values are personal data and stay out. */
      changed: z.array(z.enum(['givenName', 'familyName', 'displayName'])).min(1),
    }),
    description:
      'The account holder changed their profile (names); lists which attributes, not their values.',
  }),
  deletionRequested: defineEvent({
    type: 'rampart.identity.account.deletion-requested',
    topic: AccountTopic,
    data: z.strictObject({ accountId }),
    description:
      'The account holder asked for their account to be deleted; sign-in is refused from now on.',
  }),
};

export const LoginEvents = {
  succeeded: defineEvent({
    type: 'rampart.identity.login.succeeded',
    topic: LoginTopic,
    data: z.strictObject({ accountId, ...attemptContext }),
    description: 'A password sign-in succeeded.',
  }),
  failed: defineEvent({
    type: 'rampart.identity.login.failed',
    topic: LoginTopic,
    data: z.strictObject({
      /**
       * Absent when no account has the username tried. The username as typed is never recorded:
       * people type their password into the username field, and it would land in the event log.
       */
      accountId: accountId.optional(),
      reason: z.enum(LOGIN_FAILURE_REASONS),
      ...attemptContext,
    }),
    description:
      'A password sign-in failed, with the reason (unknown-user, bad-password, disabled, deletion-requested).',
  }),
};
