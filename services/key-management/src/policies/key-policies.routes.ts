import type { OpenApiRoute } from '@rampart/platform';
import { policyView, setPolicyRequest } from './dto/key-policies.dto.js';

const responses = (description: string) => ({
  200: { description, schema: policyView },
  403: { description: 'The caller may not read or change this policy.' },
});

/** The policy-administration API as the OpenAPI document describes it. */
export const keyPolicyRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/kms/v1/policies/keyRings/{ring}',
    operationId: 'getKeyRingPolicy',
    summary: "A key ring's policy (empty, version 0, if it has none).",
    security: 'workload-or-token',
    responses: responses('The policy.'),
  },
  {
    method: 'put',
    path: '/kms/v1/policies/keyRings/{ring}',
    operationId: 'setKeyRingPolicy',
    summary: "Replace a key ring's policy; it applies to every key of the ring.",
    security: 'workload-or-token',
    request: setPolicyRequest,
    responses: {
      ...responses('The new policy.'),
      409: { description: 'The policy changed since the given version.' },
    },
  },
  {
    method: 'get',
    path: '/kms/v1/policies/keyRings/{ring}/keys/{key}',
    operationId: 'getKeyPolicy',
    summary: "A key's own policy (the ring's policy applies as well).",
    security: 'workload-or-token',
    responses: responses('The policy.'),
  },
  {
    method: 'put',
    path: '/kms/v1/policies/keyRings/{ring}/keys/{key}',
    operationId: 'setKeyPolicy',
    summary: "Replace a key's own policy.",
    security: 'workload-or-token',
    request: setPolicyRequest,
    responses: {
      ...responses('The new policy.'),
      409: { description: 'The policy changed since the given version.' },
    },
  },
];
