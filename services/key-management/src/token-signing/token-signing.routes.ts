import type { OpenApiRoute } from '@rampart/platform';
import {
  jwkSet,
  rotateRequest,
  tokenSigningKeysResponse,
  tokenSigningKeysView,
} from './dto/token-signing.dto.js';

/** The token-signing API as the OpenAPI document describes it. */
export const tokenSigningRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/kms/v1/jwks',
    operationId: 'getJwks',
    summary:
      "Identity's public token-signing keys (NEXT, CURRENT, PREVIOUS) as a JWK Set; cacheable for 5 minutes.",
    security: 'public',
    responses: { 200: { description: 'The JWK Set.', schema: jwkSet } },
  },
  {
    method: 'get',
    path: '/kms/v1/tokenSigningKeys',
    operationId: 'getTokenSigningKeys',
    summary:
      "Identity only: the published keys, with the CURRENT and NEXT private JWKs encrypted to identity's workload encryption key.",
    security: 'workload',
    responses: {
      200: { description: 'The keys.', schema: tokenSigningKeysResponse },
      400: { description: 'The caller has no encryption key in the trust folder.' },
    },
  },
  {
    method: 'post',
    path: '/kms/v1/tokenSigningKeys:rotate',
    operationId: 'rotateTokenSigningKeys',
    summary:
      'Rotate now (identity, or an access token with scope kms.admin): NEXT becomes CURRENT, CURRENT becomes PREVIOUS for the grace period (or RETIRED with retireCurrent), a new NEXT is published.',
    security: 'workload-or-token',
    request: rotateRequest,
    responses: { 200: { description: 'The published keys.', schema: tokenSigningKeysView } },
  },
];
