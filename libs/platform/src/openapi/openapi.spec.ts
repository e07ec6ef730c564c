import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { buildOpenApiDocument, type OpenApiRoute } from './openapi.js';

interface Operation {
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

function operation(route: OpenApiRoute): Operation {
  const document = buildOpenApiDocument({
    title: 't',
    version: '1',
    description: 'd',
    routes: [route],
  }) as { paths: Record<string, Record<string, Operation>> };
  return document.paths[route.path]![route.method]!;
}

const problemContent = {
  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
};

describe('buildOpenApiDocument', () => {
  it('declares every path parameter of the template as a required string', () => {
    const encrypt = operation({
      method: 'post',
      path: '/kms/v1/rings/{ring}/keys/{name}:encrypt',
      operationId: 'encrypt',
      summary: 's',
      responses: { 200: { description: 'ok' } },
    });
    expect(encrypt.parameters).toEqual([
      { name: 'ring', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
      { name: 'name', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
    ]);
  });

  it("takes a path parameter's schema from the route's params when it gives one", () => {
    const get = operation({
      method: 'get',
      path: '/things/{id}/parts/{part}',
      operationId: 'get',
      summary: 's',
      params: z.object({ id: z.uuid() }),
      responses: { 200: { description: 'ok' } },
    });
    expect(get.parameters).toEqual([
      {
        name: 'id',
        in: 'path',
        required: true,
        schema: expect.objectContaining({ format: 'uuid' }),
      },
      { name: 'part', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
    ]);
  });

  it('declares query parameters from the query schema, as callers write them', () => {
    const list = operation({
      method: 'get',
      path: '/things',
      operationId: 'list',
      summary: 's',
      query: z.strictObject({
        ring: z.string().default('default'),
        size: z.string().regex(/^\d+$/),
      }),
      responses: { 200: { description: 'ok' } },
    });
    expect(list.parameters).toEqual([
      expect.objectContaining({ name: 'ring', in: 'query', required: false }),
      expect.objectContaining({ name: 'size', in: 'query', required: true }),
    ]);
    expect(list.requestBody).toBeUndefined();
  });

  it('gives a declared error without a schema the problem+json body it is sent with', () => {
    const create = operation({
      method: 'post',
      path: '/things',
      operationId: 'create',
      summary: 's',
      request: z.object({ name: z.string() }),
      responses: { 201: { description: 'made' }, 409: { description: 'taken' } },
    });
    expect(create.responses['409']!.content).toEqual(problemContent);
    expect(create.responses['201']!.content).toBeUndefined();
    expect(create.responses['default']!.content).toEqual(problemContent);
  });

  it('allows the extension members RFC 9457 permits on problems', () => {
    const document = buildOpenApiDocument({
      title: 't',
      version: '1',
      description: 'd',
      routes: [],
    });
    const problem = (document as { components: { schemas: { Problem: Record<string, unknown> } } })
      .components.schemas.Problem;
    expect(problem['additionalProperties']).not.toBe(false);
    expect(problem['required']).toEqual(['type', 'title', 'status', 'code']);
  });

  it("documents a route's own format for bodies and errors, and problem+json from the gateway", () => {
    const scim = operation({
      method: 'post',
      path: '/scim/v2/Users',
      operationId: 'createUser',
      summary: 's',
      request: z.object({ userName: z.string() }),
      format: { mediaType: 'application/scim+json', error: z.object({ status: z.string() }) },
      responses: {
        201: { description: 'made', schema: z.object({ id: z.string() }) },
        409: { description: 'taken' },
      },
    });
    expect(Object.keys(scim.requestBody!.content)).toEqual([
      'application/scim+json',
      'application/json',
    ]);
    expect(Object.keys(scim.responses['201']!.content!)).toEqual(['application/scim+json']);
    for (const status of ['409', 'default']) {
      expect(Object.keys(scim.responses[status]!.content!)).toEqual([
        'application/scim+json',
        'application/problem+json',
      ]);
    }
  });

  it('describes a request body taken in other media types, each with its schema', () => {
    const report = operation({
      method: 'post',
      path: '/reports',
      operationId: 'report',
      summary: 's',
      requestContent: {
        'application/csp-report': z.object({ a: z.string() }),
        'application/reports+json': z.array(z.object({ b: z.string() })),
      },
      responses: { 204: { description: 'received' } },
    });
    expect(report.requestBody!.content).toEqual({
      'application/csp-report': { schema: expect.objectContaining({ type: 'object' }) },
      'application/reports+json': { schema: expect.objectContaining({ type: 'array' }) },
    });
  });

  it('describes a body that is not JSON by its media type', () => {
    const exported = operation({
      method: 'get',
      path: '/export',
      operationId: 'export',
      summary: 's',
      responses: { 200: { description: 'lines', mediaType: 'application/x-ndjson' } },
    });
    expect(exported.responses['200']!.content).toEqual({
      'application/x-ndjson': { schema: { type: 'string' } },
    });
  });
});
