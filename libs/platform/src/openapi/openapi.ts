import { z } from 'zod';

export interface OpenApiRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  operationId: string;
  /**
   * Who may call: anyone, platform services, services and holders of identity access tokens, or
   * holders of access tokens only (user-owned resources).
   */
  security?: 'public' | 'workload' | 'workload-or-token' | 'token';
  request?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

export interface OpenApiSpec {
  title: string;
  version: string;
  description: string;
  routes: OpenApiRoute[];
}

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errorId: z.string().optional(),
});

/** Requests are described as callers write them (before defaults and transforms), responses as sent. */
export function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output' = 'output',
): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io });
}

const SECURITY = {
  public: [],
  workload: [{ workload: [] }],
  'workload-or-token': [{ workload: [] }, { accessToken: [] }],
  token: [{ accessToken: [] }],
} as const;

/**
 * An OpenAPI 3.1 document built from the same zod schemas the routes validate with, so the
 * reference cannot drift from the code. Every route also documents its problem+json errors.
 */
export function buildOpenApiDocument(spec: OpenApiSpec): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of spec.routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { 'application/json': { schema: jsonSchema(response.schema) } } }
          : {}),
      };
    }
    responses['default'] = {
      description: 'An error, as RFC 9457 problem details.',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    (paths[route.path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      security: SECURITY[route.security ?? 'public'],
      ...(route.request
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.request, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: spec.title, version: spec.version, description: spec.description },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema) },
      securitySchemes: {
        workload: {
          type: 'apiKey',
          in: 'header',
          name: 'Rampart-Workload-Assertion',
          description:
            'A short-lived EdDSA-signed JWT naming the calling service, audience-bound to this one.',
        },
        accessToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "An RFC 9068 access token from identity, for this service's audience.",
        },
      },
    },
  };
}
