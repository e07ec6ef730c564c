import type { OpenApiRoute } from '@rampart/platform';
import { rootView } from './dto/root.dto.js';

export const rootOfTrustRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/kms/v1/root',
    operationId: 'getRoot',
    summary:
      'The current root key id and root rotation progress (platform workloads, or an access token with kms.admin).',
    security: 'workload-or-token',
    responses: { 200: { description: 'Root of trust state.', schema: rootView } },
  },
];
