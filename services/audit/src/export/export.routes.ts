import type { OpenApiRoute } from '@rampart/platform';
import { exportQuerySchema } from './ndjson-export.js';

export const exportRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/audit/v1/export',
    operationId: 'exportAuditRecords',
    summary:
      'Records after a sequence number as an NDJSON file for SIEM import, one {sequence, previousHash, hash, record} per line, a pruned record as its tombstone (query: after, limit up to 10000, proofs=true to begin with the Merkle frontier and the signed checkpoints in range; access token with audit:read; audited).',
    security: 'token',
    query: exportQuerySchema,
    responses: {
      200: {
        description: 'One record per line, in sequence order.',
        mediaType: 'application/x-ndjson',
      },
      400: { description: 'A parameter is unknown or malformed (named in errors).' },
    },
  },
];
