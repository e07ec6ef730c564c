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
  /** A body taken in media types other than JSON, each with its schema (CSP reports). */
  requestContent?: Record<string, z.ZodType>;
  /**
   * Schemas of the path parameters `path` names, as the handler parses them; a parameter left out
   * is described as any non-empty string.
   */
  params?: z.ZodObject;
  /** The query parameters, as the handler parses them. */
  query?: z.ZodObject;
  responses: Record<
    number,
    {
      description: string;
      schema?: z.ZodType;
      /** A body that is not JSON (an NDJSON export): its media type, described as text. */
      mediaType?: string;
    }
  >;
  /**
   * The wire format when it is not the platform's: SCIM routes send `application/scim+json` and
   * SCIM error bodies (RFC 7644 section 3.12) instead of JSON and problem+json.
   */
  format?: { mediaType: string; error: z.ZodType };
}

export interface OpenApiSpec {
  title: string;
  version: string;
  description: string;
  routes: OpenApiRoute[];
}

// Loose: RFC 9457 lets a problem carry extension members (validation errors list `errors`).
const problemSchema = z.looseObject({
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

const problemContent = {
  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
};

/**
 * Path parameters named by the template (`/keys/{name}:encrypt`), always required, with the
 * route's schema for each when it gives one.
 */
function pathParameters(path: string, params: z.ZodObject | undefined): Record<string, unknown>[] {
  const schemas = params
    ? ((jsonSchema(params, 'input') as { properties?: Record<string, unknown> }).properties ?? {})
    : {};
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: schemas[name!] ?? { type: 'string', minLength: 1 },
  }));
}

/** Query parameters from the zod object the handler parses the query with, as callers write them. */
function queryParameters(query: z.ZodObject | undefined): Record<string, unknown>[] {
  if (!query) return [];
  const schema = jsonSchema(query, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: property,
  }));
}

/**
 * An OpenAPI 3.1 document built from the same zod schemas the routes validate with, so the
 * reference cannot drift from the code. Every route also documents its problem+json errors.
 */
export function buildOpenApiDocument(spec: OpenApiSpec): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of spec.routes) {
    const jsonType = route.format?.mediaType ?? 'application/json';
    // The gateway's own refusals (rate limits, oversized bodies) stay problem+json on any route.
    const errorContent = route.format
      ? { [jsonType]: { schema: jsonSchema(route.format.error) }, ...problemContent }
      : problemContent;
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        // An error a route names without a body schema is still sent in the error format.
        ...(response.schema
          ? { content: { [jsonType]: { schema: jsonSchema(response.schema) } } }
          : response.mediaType
            ? { content: { [response.mediaType]: { schema: { type: 'string' } } } }
            : Number(status) >= 400
              ? { content: errorContent }
              : {}),
      };
    }
    responses['default'] = {
      description: route.format
        ? "An error, as the route's own error body or (from the gateway) RFC 9457 problem details."
        : 'An error, as RFC 9457 problem details.',
      content: errorContent,
    };
    const requestSchema = route.request
      ? { schema: jsonSchema(route.request, 'input') }
      : undefined;
    const requestContent = route.requestContent
      ? Object.fromEntries(
          Object.entries(route.requestContent).map(([type, schema]) => [
            type,
            { schema: jsonSchema(schema, 'input') },
          ]),
        )
      : requestSchema
        ? // A route with its own media type still accepts plain JSON.
          { [jsonType]: requestSchema, 'application/json': requestSchema }
        : undefined;
    const parameters = [
      ...pathParameters(route.path, route.params),
      ...queryParameters(route.query),
    ];
    (paths[route.path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      security: SECURITY[route.security ?? 'public'],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestContent ? { requestBody: { required: true, content: requestContent } } : {}),
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
