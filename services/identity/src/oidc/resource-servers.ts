/**
 * The APIs access tokens are issued for (RFC 8707). Each API's resource indicator is its base URL
 * through the gateway, so a token names exactly the API it is good for, and the API checks that
 * its own URL is the token's audience (ACCESS_TOKEN_AUDIENCE).
 */
export interface ResourceApi {
  /** Path below the issuer: the indicator is `${issuer}${path}`. */
  path: string;
  /** Scopes this API understands; a client may be granted only those its registration lists. */
  scopes: readonly string[];
  description: string;
}

export const RESOURCE_APIS: readonly ResourceApi[] = [
  {
    path: '/kms',
    scopes: ['kms.admin', 'kms.share', 'kms.use'],
    description: 'Key management: administer key rings and policies, share, use keys.',
  },
  {
    path: '/scim/v2',
    scopes: ['scim'],
    description: 'SCIM 2.0 provisioning of users and groups.',
  },
  {
    path: '/authz',
    scopes: ['authz.read', 'authz.write', 'authz.admin'],
    description: 'Relationship-based authorization: check, write tuples, administer models.',
  },
  {
    path: '/privacy',
    scopes: ['privacy.read', 'privacy.admin'],
    description: 'Consent records, data inventory and data-subject requests.',
  },
  // The scope the audit service checks (AUDIT_READ_SCOPE), named as its documents name it.
  { path: '/audit', scopes: ['audit:read'], description: 'The audit log.' },
];

/** Every API scope: what the bootstrap admin client may request. */
export const ADMIN_SCOPES: readonly string[] = RESOURCE_APIS.flatMap((api) => api.scopes);

/** The scopes of people's sign-in (OpenID Connect), which any client may ask for. */
export const OPENID_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const;

export function resourceIndicator(issuer: string, api: ResourceApi): string {
  return `${issuer}${api.path}`;
}

/** The API an indicator names, or undefined for anything else (exact match, no prefixes). */
export function resourceApi(issuer: string, indicator: string): ResourceApi | undefined {
  return RESOURCE_APIS.find((api) => resourceIndicator(issuer, api) === indicator);
}
