import { z } from 'zod';
import type { OpenApiRoute } from '@rampart/platform';
import { SCIM_ERROR_SCHEMA } from './scim.errors.js';

/*
 * The SCIM routes in the identity service's OpenAPI document. The schemas describe the wire
 * format for readers; the services validate bodies themselves, because SCIM attribute names are
 * case-insensitive and unknown attributes are ignored, which a zod object cannot express.
 * Errors on these routes are SCIM error bodies (application/scim+json), not problem documents.
 */

const meta = z.object({
  resourceType: z.enum(['User', 'Group']),
  created: z.iso.datetime(),
  lastModified: z.iso.datetime(),
  location: z.url(),
  version: z.string().describe('The ETag, W/"<version>"'),
});

const user = z.looseObject({
  schemas: z.array(z.string()),
  id: z.uuid().optional().describe('Assigned by the server'),
  externalId: z.string().max(256).optional(),
  userName: z.string().min(1).max(64),
  name: z
    .object({
      givenName: z.string().max(256).optional(),
      familyName: z.string().max(256).optional(),
    })
    .optional(),
  displayName: z.string().max(256).optional(),
  emails: z.array(
    z.object({ value: z.email(), type: z.string().optional(), primary: z.boolean().optional() }),
  ),
  active: z.boolean().optional(),
  password: z.string().optional().describe('Write-only: never returned'),
  groups: z
    .array(z.object({ value: z.uuid(), display: z.string(), type: z.literal('direct') }))
    .optional()
    .describe('Read-only'),
  meta: meta.optional(),
});

const group = z.looseObject({
  schemas: z.array(z.string()),
  id: z.uuid().optional(),
  externalId: z.string().max(256).optional(),
  displayName: z.string().min(1).max(256),
  members: z
    .array(
      z.object({
        value: z.uuid(),
        display: z.string().optional(),
        type: z.literal('User').optional(),
        $ref: z.url().optional(),
      }),
    )
    .max(10_000)
    .optional(),
  meta: meta.optional(),
});

const patchOp = z.object({
  schemas: z.array(z.literal('urn:ietf:params:scim:api:messages:2.0:PatchOp')),
  Operations: z
    .array(
      z.object({
        op: z.enum(['add', 'remove', 'replace']).describe('Case-insensitive'),
        path: z.string().optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(1000),
});

/** RFC 7644 section 3.12: what every SCIM route answers an error with (`status` is a string). */
const scimError = z.object({
  schemas: z.array(z.literal(SCIM_ERROR_SCHEMA)).length(1),
  status: z.string().regex(/^[1-5][0-9]{2}$/),
  scimType: z.string().optional(),
  detail: z.string().optional(),
});

const SCIM_FORMAT = { mediaType: 'application/scim+json', error: scimError };

const list = (resource: z.ZodType) =>
  z.object({
    schemas: z.array(z.string()),
    totalResults: z.number().int(),
    startIndex: z.number().int(),
    itemsPerPage: z.number().int(),
    Resources: z.array(resource),
  });

function resourceRoutes(kind: 'User' | 'Group', schema: z.ZodType, extra: string): OpenApiRoute[] {
  const path = `/scim/v2/${kind}s`;
  return [
    {
      method: 'get',
      path,
      operationId: `list${kind}s`,
      summary: `${kind}s (query: filter with eq ne co sw ew gt ge lt le pr and or not, startIndex, count up to 200, sortBy, sortOrder, attributes, excludedAttributes).`,
      security: 'token',
      responses: { 200: { description: 'A ListResponse.', schema: list(schema) } },
    },
    {
      method: 'post',
      path,
      operationId: `create${kind}`,
      summary: `Create a ${kind}. ${extra}`,
      security: 'token',
      request: schema,
      responses: {
        201: { description: `The ${kind}, with Location and ETag.`, schema },
        409: { description: 'scimType uniqueness.' },
      },
    },
    {
      method: 'get',
      path: `${path}/{id}`,
      operationId: `get${kind}`,
      summary: `A ${kind} with its ETag; If-None-Match answers 304.`,
      security: 'token',
      responses: {
        200: { description: `The ${kind}.`, schema },
        304: { description: 'Not modified.' },
      },
    },
    {
      method: 'put',
      path: `${path}/{id}`,
      operationId: `replace${kind}`,
      summary: `Replace a ${kind}'s writable attributes; If-Match honoured (412 when stale).`,
      security: 'token',
      request: schema,
      responses: { 200: { description: `The ${kind}.`, schema } },
    },
    {
      method: 'patch',
      path: `${path}/{id}`,
      operationId: `patch${kind}`,
      summary: `Add, replace or remove attributes (RFC 7644 section 3.5.2); If-Match honoured.`,
      security: 'token',
      request: patchOp,
      responses: { 200: { description: `The ${kind}.`, schema } },
    },
    {
      method: 'delete',
      path: `${path}/{id}`,
      operationId: `delete${kind}`,
      summary: `Delete a ${kind}; If-Match honoured.`,
      security: 'token',
      responses: { 204: { description: 'Deleted.' } },
    },
  ];
}

const routes: OpenApiRoute[] = [
  ...resourceRoutes(
    'User',
    user,
    'A password is checked against the password policy; the user can sign in at once.',
  ),
  ...resourceRoutes('Group', group, 'Members are users, at most 10,000.'),
  ...(
    [
      ['ServiceProviderConfig', 'getScimServiceProviderConfig', 'What this SCIM server supports.'],
      ['ResourceTypes', 'listScimResourceTypes', 'The resource types (User, Group).'],
      ['Schemas', 'listScimSchemas', 'The User and Group schemas.'],
    ] as const
  ).map(([name, operationId, summary]): OpenApiRoute => ({
    method: 'get',
    path: `/scim/v2/${name}`,
    operationId,
    summary,
    security: 'token',
    responses: { 200: { description: summary } },
  })),
];

export const scimRoutes: OpenApiRoute[] = routes.map((route) => ({
  ...route,
  format: SCIM_FORMAT,
}));
