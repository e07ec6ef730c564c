import {
  errors,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { RESOURCE_APIS, resourceIndicator } from '@rampart/contracts';
import type { PrivateSigningJwk } from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { fetch as undiciFetch } from 'undici';
import type { IdentityConfig } from '../config/identity.config.js';
import { CLAIMS_BY_SCOPE, findActiveAccountClaims } from './account-claims.js';
import { postgresAdapterFactory } from './postgres-adapter.js';
import { ADMIN_SCOPES, OPENID_SCOPES, resourceApi } from './resource-servers.js';

/** The account centre: a first-party client that only needs the session (response_type none). */
export const ACCOUNT_CENTRE_CLIENT_ID = 'rampart-account';

/** Client metadata naming the API a token is for when a request names none (RFC 8707). */
export const DEFAULT_RESOURCE_METADATA = 'rampart_default_resource';

/**
 * The registration policy bound to initial access tokens handed to application developers: such a
 * client may ask for people's sign-in scopes only, never an API's administrative scopes.
 */
export const STANDARD_REGISTRATION_POLICY = 'rampart-standard-client';

/** Cookie names: the session cookie is `__Host-` (path `/`, no domain); see ADR 0017. */
export const COOKIE_NAMES = {
  session: '__Host-rampart-session',
  // oidc-provider binds these two to the interaction's and the resume endpoint's paths, a tighter
  // scope than `__Host-` allows (it demands Path=/); `__Secure-` keeps the Secure guarantee.
  interaction: '__Secure-rampart-interaction',
  resume: '__Secure-rampart-resume',
} as const;

/** Algorithms accepted from clients (private_key_jwt, request objects, DPoP proofs). */
const CLIENT_ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const;

export interface ProviderSettings {
  issuer: string;
  config: IdentityConfig;
  dataSource: DataSource;
  /** CURRENT first: the provider signs with the first key of an algorithm. */
  signingKeys: PrivateSigningJwk[];
  cookieKeys: string[];
  /** Overrides for the pages the provider renders itself (error, logout, device flow). */
  pages?: Partial<ProviderPages>;
}

type Features = NonNullable<Configuration['features']>;
export interface ProviderPages {
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource: NonNullable<NonNullable<Features['rpInitiatedLogout']>['logoutSource']>;
  postLogoutSuccessSource: NonNullable<
    NonNullable<Features['rpInitiatedLogout']>['postLogoutSuccessSource']
  >;
  userCodeInputSource: NonNullable<NonNullable<Features['deviceFlow']>['userCodeInputSource']>;
  userCodeConfirmSource: NonNullable<NonNullable<Features['deviceFlow']>['userCodeConfirmSource']>;
  successSource: NonNullable<NonNullable<Features['deviceFlow']>['successSource']>;
}

const words = (value: unknown) =>
  typeof value === 'string' ? value.split(' ').filter(Boolean) : [];

/**
 * The provider's whole configuration: which flows exist (and which never do: implicit, password,
 * `none` signatures), where things are stored, which APIs tokens are for, and how long each
 * artefact lives. See docs/architecture/identity.md ("OpenID Connect provider").
 */
export function providerConfiguration(settings: ProviderSettings): Configuration {
  const { issuer, config, dataSource } = settings;
  const signingAlgorithms = [...new Set(settings.signingKeys.map((key) => key.alg))];
  const idleSeconds = config.IDENTITY_SESSION_IDLE_SECONDS;
  const maxSeconds = config.IDENTITY_SESSION_MAX_SECONDS;

  return {
    adapter: postgresAdapterFactory(dataSource),
    // The provider's outgoing requests (back-channel logout, a client's jwks_uri, sector
    // identifiers) carry its SSRF guard: a dispatcher that refuses loopback, private and
    // link-local addresses, built from the process's global undici Agent. Importing undici 8 (as
    // @rampart/platform does) makes that a v8 Agent, which Node's built-in fetch (undici 7) rejects
    // ("invalid onRequestStart method"), so every such request failed. undici's own fetch speaks
    // the same dispatcher version.
    fetch: (url, init) =>
      undiciFetch(
        url as Parameters<typeof undiciFetch>[0],
        init as Parameters<typeof undiciFetch>[1],
      ),
    jwks: { keys: settings.signingKeys.map((key) => ({ ...key, use: 'sig' })) },
    cookies: {
      names: COOKIE_NAMES,
      long: { httpOnly: true, sameSite: 'lax', secure: true, path: '/' },
      short: { httpOnly: true, sameSite: 'lax', secure: true },
      keys: settings.cookieKeys,
    },
    clients: [
      {
        client_id: ACCOUNT_CENTRE_CLIENT_ID,
        client_name: 'Rampart account centre',
        token_endpoint_auth_method: 'none',
        response_types: ['none'],
        grant_types: ['authorization_code'],
        redirect_uris: [`${issuer}/account/callback`],
        post_logout_redirect_uris: [`${issuer}/account`],
        scope: 'openid',
      },
    ],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signingAlgorithms[0] ?? 'ES256',
    },
    clientAuthMethods: ['none', 'client_secret_basic', 'private_key_jwt'],
    responseTypes: ['code', 'none'],
    // Every authorization code flow uses PKCE with S256 (the only method oidc-provider 9 has).
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    subjectTypes: ['public'],
    // API scopes are listed too: a client's registered `scope` may only hold scopes listed here.
    scopes: [...OPENID_SCOPES, ...ADMIN_SCOPES],
    claims: Object.fromEntries(
      Object.entries(CLAIMS_BY_SCOPE).map(([scope, claims]) => [scope, [...claims]]),
    ),
    findAccount: async (_ctx, sub) => {
      const claims = await findActiveAccountClaims(dataSource, sub);
      return claims ? { accountId: sub, claims: () => claims as { sub: string } } : undefined;
    },
    extraClientMetadata: {
      properties: [DEFAULT_RESOURCE_METADATA],
      validator: (_ctx, key, value) => {
        if (key !== DEFAULT_RESOURCE_METADATA || value === undefined) return;
        if (typeof value !== 'string' || !resourceApi(issuer, value)) {
          throw new errors.InvalidClientMetadata(
            `${DEFAULT_RESOURCE_METADATA} must be one of this issuer's APIs`,
          );
        }
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // The account centre is first-party: it gets its `openid` grant without a consent screen.
    loadExistingGrant: async (ctx) => {
      const grantId =
        ctx.oidc.result?.consent?.grantId ??
        ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (ctx.oidc.client?.clientId !== ACCOUNT_CENTRE_CLIENT_ID || !ctx.oidc.session?.accountId)
        return undefined;
      const grant = new ctx.oidc.provider.Grant({
        clientId: ACCOUNT_CENTRE_CLIENT_ID,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
      ClientCredentials: config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 600,
      Grant: config.IDENTITY_REFRESH_TOKEN_TTL_SECONDS,
      RefreshToken: config.IDENTITY_REFRESH_TOKEN_TTL_SECONDS,
      PushedAuthorizationRequest: 60,
      // Every use saves the session again with this TTL: an idle timeout, capped by the
      // absolute one counted from sign-in.
      Session: (_ctx, session) => {
        if (!session.loginTs) return idleSeconds;
        const left = session.loginTs + maxSeconds - Math.floor(Date.now() / 1000);
        return Math.max(1, Math.min(idleSeconds, left));
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client learns about, and revokes, only its own tokens. The APIs never introspect: they
      // verify their JWT access tokens themselves, so no resource server needs to see others'.
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => Promise.resolve(token.clientId === client.clientId),
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => Promise.resolve(token.clientId === client.clientId),
      },
      userinfo: { enabled: true },
      dPoP: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      backchannelLogout: { enabled: true },
      deviceFlow: {
        enabled: true,
        ...(settings.pages?.userCodeInputSource
          ? { userCodeInputSource: settings.pages.userCodeInputSource }
          : {}),
        ...(settings.pages?.userCodeConfirmSource
          ? { userCodeConfirmSource: settings.pages.userCodeConfirmSource }
          : {}),
        ...(settings.pages?.successSource ? { successSource: settings.pages.successSource } : {}),
      },
      rpInitiatedLogout: {
        enabled: true,
        ...(settings.pages?.logoutSource ? { logoutSource: settings.pages.logoutSource } : {}),
        ...(settings.pages?.postLogoutSuccessSource
          ? { postLogoutSuccessSource: settings.pages.postLogoutSuccessSource }
          : {}),
      },
      registration: {
        enabled: true,
        initialAccessToken: true,
        policies: {
          [STANDARD_REGISTRATION_POLICY]: (_ctx: KoaContextWithOIDC, metadata: ClientMetadata) => {
            const scopes = words(metadata.scope ?? OPENID_SCOPES.join(' '));
            const refused = scopes.filter(
              (scope) => !(OPENID_SCOPES as readonly string[]).includes(scope),
            );
            if (refused.length > 0) {
              throw new errors.InvalidClientMetadata(
                `scope may only hold ${OPENID_SCOPES.join(', ')} for dynamically registered clients`,
              );
            }
            if (metadata[DEFAULT_RESOURCE_METADATA] !== undefined) {
              throw new errors.InvalidClientMetadata(
                `${DEFAULT_RESOURCE_METADATA} is set by an administrator, not at registration`,
              );
            }
            metadata.scope = scopes.join(' ');
          },
        },
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx) => {
          const fallback = ctx.oidc.client?.metadata()[DEFAULT_RESOURCE_METADATA];
          return Promise.resolve(typeof fallback === 'string' ? fallback : undefined);
        },
        useGrantedResource: () => Promise.resolve(true),
        getResourceServerInfo: (_ctx, indicator, client) => {
          const api = resourceApi(issuer, indicator);
          if (!api) throw new errors.InvalidTarget(`${indicator} is not an API of this issuer`);
          // A client may be granted only the API scopes its registration lists.
          const allowed = new Set(words(client.scope));
          const scope = api.scopes.filter((candidate) => allowed.has(candidate)).join(' ');
          if (!scope)
            throw new errors.InvalidTarget(`this client may not obtain tokens for ${indicator}`);
          return Promise.resolve({
            scope,
            audience: resourceIndicator(issuer, api),
            accessTokenTTL: config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signingAlgorithms[0] as 'ES256' } },
          });
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: signingAlgorithms,
      userinfoSigningAlgValues: signingAlgorithms,
      introspectionSigningAlgValues: signingAlgorithms,
      authorizationSigningAlgValues: signingAlgorithms,
      clientAuthSigningAlgValues: [...CLIENT_ALGORITHMS],
      requestObjectSigningAlgValues: [...CLIENT_ALGORITHMS],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256'],
    },
    ...(settings.pages?.renderError ? { renderError: settings.pages.renderError } : {}),
    routes: {
      authorization: '/oidc/auth',
      token: '/oidc/token',
      userinfo: '/oidc/userinfo',
      jwks: '/oidc/jwks',
      registration: '/oidc/register',
      revocation: '/oidc/token/revocation',
      introspection: '/oidc/token/introspection',
      end_session: '/oidc/session/end',
      code_verification: '/oidc/device',
      device_authorization: '/oidc/device/auth',
      pushed_authorization_request: '/oidc/par',
      backchannel_authentication: '/oidc/backchannel',
      challenge: '/oidc/challenge',
      credential: '/oidc/credential',
    },
  };
}

/** Every API indicator, for discovery-adjacent documentation and tests. */
export function resourceIndicators(issuer: string): string[] {
  return RESOURCE_APIS.map((api) => resourceIndicator(issuer, api));
}
