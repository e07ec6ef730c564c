import type { OpenApiRoute } from '@rampart/platform';
import { eventsPageView, eventsQuerySchema } from './events-query.js';

export const queryRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/audit/v1/events',
    operationId: 'listAuditEvents',
    summary:
      'Records of the audit log in sequence order, filtered by time range, actor, subject, OCSF class, outcome and service, paged by cursor (query: from, to, actor, subject, class, outcome, service, cursor, limit; access token with audit:read; every query is itself audited).',
    security: 'token',
    query: eventsQuerySchema,
    responses: {
      200: { description: 'One page of records.', schema: eventsPageView },
      400: { description: 'A parameter is unknown, repeated or malformed (named in errors).' },
    },
  },
];
