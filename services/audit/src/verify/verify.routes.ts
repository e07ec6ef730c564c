import type { OpenApiRoute } from '@rampart/platform';
import { verifyView } from './dto/verify.dto.js';

export const verifyRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/audit/v1/verify',
    operationId: 'verifyChain',
    summary:
      'Walk the whole audit chain and report whether it is intact, or the first bad record (access token with audit:read).',
    security: 'token',
    responses: { 200: { description: 'The outcome of the verification.', schema: verifyView } },
  },
];
