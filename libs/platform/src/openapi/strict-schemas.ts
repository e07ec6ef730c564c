import { z } from 'zod';
import { jsonSchema, type OpenApiRoute } from './openapi.js';

/** An object schema in a request part that lets unknown properties through. */
export interface OpenRequestObject {
  operationId: string;
  /** The route field the schema came from: `request` today, any other request part later. */
  part: string;
  /** JSON Pointer into that part's JSON Schema (`''` is the part itself). */
  pointer: string;
}

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Object schemas under `node` whose `additionalProperties` is anything but `false`: absent (zod's
 * `z.object`, which silently drops unknown keys), `{}` (`.loose()`) or a value schema (a record).
 */
function openObjects(node: unknown, pointer: string, found: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => openObjects(item, `${pointer}/${index}`, found));
    return;
  }
  if (!isNode(node)) return;
  const isObject = node['type'] === 'object' || 'properties' in node;
  if (isObject && node['additionalProperties'] !== false) found.push(pointer);
  for (const [key, child] of Object.entries(node)) {
    // Only keywords that hold subschemas: `properties`' keys are property names, `required`'s
    // entries are strings, `enum` and `const` are values.
    if (key === 'properties' || key === '$defs' || key === 'patternProperties') {
      if (isNode(child)) {
        for (const [name, schema] of Object.entries(child)) {
          openObjects(schema, `${pointer}/${key}/${escapePointer(name)}`, found);
        }
      }
    } else if (
      ['items', 'prefixItems', 'anyOf', 'oneOf', 'allOf', 'not', 'additionalProperties'].includes(
        key,
      )
    ) {
      openObjects(child, `${pointer}/${key}`, found);
    }
  }
}

/**
 * Every request object schema of `routes` that does not refuse unknown properties, as the OpenAPI
 * document describes it (the same zod to JSON Schema conversion, as callers write requests). Any
 * zod schema on a route but its responses and path parameters counts as a request part, so a part
 * added later is checked without changing this function.
 */
export function openRequestObjects(routes: readonly OpenApiRoute[]): OpenRequestObject[] {
  const found: OpenRequestObject[] = [];
  for (const route of routes) {
    for (const [part, schema] of Object.entries(route)) {
      // Path parameters are named by the route's template: an unknown one has nowhere to be.
      if (part === 'responses' || part === 'params' || !(schema instanceof z.ZodType)) continue;
      const pointers: string[] = [];
      openObjects(jsonSchema(schema, 'input'), '', pointers);
      found.push(...pointers.map((pointer) => ({ operationId: route.operationId, part, pointer })));
    }
  }
  return found;
}
