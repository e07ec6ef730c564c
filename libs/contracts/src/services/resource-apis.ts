/**
 * The APIs access tokens are issued for (RFC 8707). Each API's resource indicator is its base URL
 * through the gateway, so a token names exactly the API it is good for. Identity issues tokens for
 * these audiences and scopes; the gateway checks them at the edge; each service checks again that
 * its own URL is the token's audience (ACCESS_TOKEN_AUDIENCE).
 */
export interface ResourceApi {
  /** Path below the issuer: the indicator is `${issuer}${path}`. */
  readonly path: string;
  /** Scopes this API understands; a client may be granted only those its registration lists. */
  readonly scopes: readonly string[];
  readonly description: string;
  /**
   * Whether the gateway verifies the access token before a request reaches the service, and the
   * paths below `path` that need none (the service's own `security: 'public'` routes). SCIM is
   * left to identity: its errors must be SCIM error documents (RFC 7644), not problem+json.
   */
  readonly edge?: { readonly publicPaths: readonly string[] };
}

export const RESOURCE_APIS: readonly ResourceApi[] = [
  {
    path: '/kms',
    scopes: ['kms.admin', 'kms.share', 'kms.use'],
    description: 'Key management: administer key rings and policies, share, use keys.',
    edge: { publicPaths: ['/kms/openapi.json', '/kms/v1/jwks'] },
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
    edge: { publicPaths: ['/authz/openapi.json'] },
  },
  {
    path: '/privacy',
    scopes: ['privacy.read', 'privacy.admin'],
    description: 'Consent records, data inventory and data-subject requests.',
    edge: { publicPaths: ['/privacy/openapi.json'] },
  },
  {
    path: '/audit',
    scopes: ['audit:read'],
    description: 'The audit log.',
    edge: { publicPaths: ['/audit/openapi.json'] },
  },
];

export function resourceIndicator(issuer: string, api: ResourceApi): string {
  return `${issuer}${api.path}`;
}
