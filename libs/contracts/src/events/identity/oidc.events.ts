import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * The OpenID Connect provider's security events: clients registered and changed, grants revoked,
 * refresh-token reuse, sign-outs and refused protocol requests. Never a token, a client secret, a
 * registration access token or an authorization code: only their owners' identifiers.
 */
export const OidcClientTopic = defineTopic({
  service: 'identity',
  aggregate: 'oidc-client',
  version: 1,
  description: 'OAuth clients registered, updated and deleted, keyed by client_id; never secrets.',
});

export const OidcGrantTopic = defineTopic({
  service: 'identity',
  aggregate: 'oidc-grant',
  version: 1,
  description:
    'Grants revoked and refresh-token reuse detected, keyed by grant id; never token values.',
});

export const OidcRequestTopic = defineTopic({
  service: 'identity',
  aggregate: 'oidc-request',
  version: 1,
  description:
    'Protocol requests the provider refused (bad client, redirect URI, PKCE, replayed code...) and sign-outs, keyed by client_id.',
});

const clientId = z.string().min(1).max(1024);
const grantId = z.string().min(1).max(256);
const requestContext = {
  ip: z.string().min(1).max(64),
  userAgent: z.string().max(1024).optional(),
};
/** How a client came to exist or change. */
const clientChannel = z.enum(['dynamic-registration', 'bootstrap', 'admin']);

export const OidcClientEvents = {
  registered: defineEvent({
    type: 'rampart.identity.oidc-client.registered',
    topic: OidcClientTopic,
    data: z.strictObject({
      clientId,
      via: clientChannel,
      grantTypes: z.array(z.string().max(256)).max(16),
      tokenEndpointAuthMethod: z.string().max(64),
      ...requestContext,
    }),
    description:
      'A client was registered (dynamically with an initial access token, or by Rampart).',
  }),
  updated: defineEvent({
    type: 'rampart.identity.oidc-client.updated',
    topic: OidcClientTopic,
    data: z.strictObject({ clientId, via: clientChannel, ...requestContext }),
    description: 'A client changed its registration (RFC 7592) with its registration access token.',
  }),
  deleted: defineEvent({
    type: 'rampart.identity.oidc-client.deleted',
    topic: OidcClientTopic,
    data: z.strictObject({ clientId, via: clientChannel, ...requestContext }),
    description: 'A client deleted its registration (RFC 7592); its tokens stop working.',
  }),
};

/** Why every token of a grant stopped working. */
export const GRANT_REVOCATION_REASONS = [
  'token-revoked',
  'refresh-token-reuse',
  'logout',
  'session-revoked',
  'account-disabled',
] as const;

export const OidcGrantEvents = {
  revoked: defineEvent({
    type: 'rampart.identity.oidc-grant.revoked',
    topic: OidcGrantTopic,
    data: z.strictObject({
      grantId,
      clientId: clientId.optional(),
      accountId: z.string().max(256).optional(),
      reason: z.enum(GRANT_REVOCATION_REASONS),
    }),
    description: 'Every token of a grant was revoked, with the reason.',
  }),
  refreshTokenReuseDetected: defineEvent({
    type: 'rampart.identity.oidc-grant.refresh-token-reuse-detected',
    topic: OidcGrantTopic,
    data: z.strictObject({
      grantId,
      clientId,
      accountId: z.string().max(256).optional(),
      ...requestContext,
    }),
    description:
      'A refresh token that had already been exchanged was presented again: a sign it was stolen. The whole grant is revoked.',
  }),
};

export const OidcRequestEvents = {
  refused: defineEvent({
    type: 'rampart.identity.oidc-request.refused',
    topic: OidcRequestTopic,
    data: z.strictObject({
      /** The provider endpoint, e.g. `token`, `authorization`, `registration_create`. */
      endpoint: z.string().min(1).max(64),
      /** The OAuth error code sent, e.g. `invalid_grant`, `invalid_client`. */
      error: z.string().min(1).max(64),
      /** The provider's description of the cause, bounded; never a submitted value. */
      description: z.string().max(512).optional(),
      clientId: clientId.optional(),
      ...requestContext,
    }),
    description:
      'The provider refused a protocol request (unknown client, redirect URI mismatch, wrong PKCE verifier, replayed code, expired or tampered token...).',
  }),
  loggedOut: defineEvent({
    type: 'rampart.identity.oidc-request.logged-out',
    topic: OidcRequestTopic,
    data: z.strictObject({
      accountId: z.string().max(256).optional(),
      clientId: clientId.optional(),
      ...requestContext,
    }),
    description: 'A person signed out at the provider (RP-initiated logout).',
  }),
};
