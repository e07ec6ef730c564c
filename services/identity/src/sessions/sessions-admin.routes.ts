import { z } from 'zod';
import type { OpenApiRoute } from '@rampart/platform';

export const adminSessionView = z.object({
  id: z.string(),
  device: z.string().describe('"Firefox on Windows", from the user agent last seen'),
  ip: z.string().nullable(),
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
});

export const adminSessionListView = z.object({ sessions: z.array(adminSessionView) });
export const revokedSessionsView = z.object({
  revoked: z.number().int().min(0).describe('How many sessions were ended'),
});

const path = '/account/v1/admin/accounts/{accountId}/sessions';

/** Administration of a person's sessions (sessions-admin.controller.ts), with the SCIM scope. */
export const sessionsAdminRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path,
    operationId: 'listAccountSessions',
    summary: "A person's sign-in sessions (access token with scope scim).",
    security: 'token',
    responses: {
      200: { description: 'The sessions.', schema: adminSessionListView },
      404: { description: 'No such account.' },
    },
  },
  {
    method: 'delete',
    path,
    operationId: 'revokeAccountSessions',
    summary:
      'End every session of a person, with the grants each authorised and back-channel logout to the clients (scope scim).',
    security: 'token',
    responses: {
      200: { description: 'How many were ended.', schema: revokedSessionsView },
      404: { description: 'No such account.' },
    },
  },
  {
    method: 'delete',
    path: `${path}/{sessionUid}`,
    operationId: 'revokeAccountSession',
    summary: 'End one session of a person, as above (scope scim).',
    security: 'token',
    responses: {
      204: { description: 'Ended.' },
      404: { description: 'No such account or session.' },
    },
  },
];
