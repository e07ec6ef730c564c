import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import type { OpenApiRoute } from './openapi.js';
import { openRequestObjects } from './strict-schemas.js';

const route = (operationId: string, request: z.ZodType, extra: Partial<OpenApiRoute> = {}) =>
  ({
    method: 'post',
    path: `/x/${operationId}`,
    summary: operationId,
    operationId,
    request,
    responses: { 200: { description: 'Done.', schema: z.object({ loose: z.string() }) } },
    ...extra,
  }) satisfies OpenApiRoute;

describe('openRequestObjects', () => {
  it('passes strict objects, however deep, and request parts without objects', () => {
    const strict = z.strictObject({
      name: z.string(),
      nested: z.strictObject({ list: z.array(z.strictObject({ value: z.number() })) }),
      either: z.union([z.strictObject({ a: z.string() }), z.string()]).optional(),
    });
    expect(openRequestObjects([route('strict', strict), route('text', z.string())])).toEqual([]);
  });

  it('names every object that lets unknown keys through: stripped, loose or a record', () => {
    const found = openRequestObjects([
      route(
        'mixed',
        z.strictObject({
          stripped: z.object({ a: z.string() }),
          loose: z.looseObject({}),
          map: z.record(z.string(), z.string()),
          items: z.array(z.object({ b: z.string() })),
          'odd/name': z.object({}),
        }),
      ),
      route('root', z.object({ c: z.string() })),
    ]);
    expect(found).toEqual([
      { operationId: 'mixed', part: 'request', pointer: '/properties/stripped' },
      { operationId: 'mixed', part: 'request', pointer: '/properties/loose' },
      { operationId: 'mixed', part: 'request', pointer: '/properties/map' },
      { operationId: 'mixed', part: 'request', pointer: '/properties/items/items' },
      { operationId: 'mixed', part: 'request', pointer: '/properties/odd~1name' },
      { operationId: 'root', part: 'request', pointer: '' },
    ]);
  });

  it('looks through transforms, refinements and defaults to the object callers write', () => {
    const refined = z
      .object({ from: z.number(), to: z.number().default(1) })
      .refine((query) => query.from <= query.to)
      .transform((query) => query.to - query.from);
    expect(openRequestObjects([route('refined', refined)])).toEqual([
      { operationId: 'refined', part: 'request', pointer: '' },
    ]);
  });

  it('checks every zod-valued request part of a route, not only the body, and never responses', () => {
    const withQuery = {
      ...route('query', z.strictObject({})),
      query: z.object({ page: z.string() }),
    } as OpenApiRoute;
    expect(openRequestObjects([withQuery])).toEqual([
      { operationId: 'query', part: 'query', pointer: '' },
    ]);
  });
});
