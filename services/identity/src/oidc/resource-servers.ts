import { RESOURCE_APIS, resourceIndicator, type ResourceApi } from '@rampart/contracts';

// The APIs themselves (paths, scopes, what the gateway checks) are in @rampart/contracts.

/** Every API scope: what the bootstrap admin client may request. */
export const ADMIN_SCOPES: readonly string[] = RESOURCE_APIS.flatMap((api) => api.scopes);

/** The scopes of people's sign-in (OpenID Connect), which any client may ask for. */
export const OPENID_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const;

/** The API an indicator names, or undefined for anything else (exact match, no prefixes). */
export function resourceApi(issuer: string, indicator: string): ResourceApi | undefined {
  return RESOURCE_APIS.find((api) => resourceIndicator(issuer, api) === indicator);
}
