import { ScimFilterError } from './filter/index.js';
import { invalidValue } from './scim.errors.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
/** The most resources one list page returns, whatever `count` asks for. */
export const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 100;

/** The weak ETag of a resource version (RFC 7644 section 3.14): `W/"<version>"`. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/**
 * Whether an `If-Match` / `If-None-Match` header names this version: `*`, or one of a list of
 * ETags, compared weakly (a `W/` prefix is ignored, as RFC 9110 allows for these uses).
 */
export function etagMatches(header: string, version: number): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag.replace(/^W\//, '') === `"${version}"`);
}

export interface ListQuery {
  filter?: string;
  startIndex: number;
  count: number;
  sortBy?: string;
  descending: boolean;
  projection: Projection;
}

/** `attributes` / `excludedAttributes`, by top-level attribute name, lower case. */
export interface Projection {
  attributes?: ReadonlySet<string>;
  excluded?: ReadonlySet<string>;
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidValue(`"${name}" must be given once.`);
  return value;
}

function integer(query: Record<string, unknown>, name: string): number | undefined {
  const text = single(query, name);
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d{1,9}$/.test(text)) throw invalidValue(`"${name}" must be an integer.`);
  return Number(text);
}

/**
 * The list parameters of RFC 7644 section 3.4.2. `startIndex` is 1-based (below 1 means 1),
 * `count` is capped at {@link MAX_PAGE_SIZE} (below 0 means 0, which returns only the total).
 */
export function readListQuery(query: Record<string, unknown>): ListQuery {
  const filter = query['filter'];
  if (filter !== undefined && typeof filter !== 'string') {
    throw new ScimFilterError('invalidFilter', 'Give one filter; combine conditions with "and".');
  }
  const sortOrder = single(query, 'sortOrder')?.toLowerCase();
  if (sortOrder !== undefined && sortOrder !== 'ascending' && sortOrder !== 'descending') {
    throw invalidValue('"sortOrder" must be "ascending" or "descending".');
  }
  const sortBy = single(query, 'sortBy');
  return {
    ...(filter === undefined || filter.trim() === '' ? {} : { filter }),
    startIndex: Math.max(1, integer(query, 'startIndex') ?? 1),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, integer(query, 'count') ?? DEFAULT_PAGE_SIZE)),
    ...(sortBy ? { sortBy } : {}),
    descending: sortOrder === 'descending',
    projection: readProjection(query),
  };
}

export function readProjection(query: Record<string, unknown>): Projection {
  const names = (name: string) => {
    const text = single(query, name);
    if (!text) return undefined;
    // `name.givenName` selects `name`: projections work on top-level attributes.
    return new Set(text.split(',').map((path) => topLevel(path.trim())));
  };
  const attributes = names('attributes');
  const excluded = names('excludedAttributes');
  return { ...(attributes ? { attributes } : {}), ...(excluded ? { excluded } : {}) };
}

/** `urn:...:User:name.givenName` and `name.givenName` both name `name`. */
function topLevel(path: string): string {
  const withoutSchema = /^urn:/i.test(path) ? path.slice(path.lastIndexOf(':') + 1) : path;
  return withoutSchema.split('.')[0]!.split('[')[0]!.toLowerCase();
}

/** `id`, `schemas` and `meta` are always returned (RFC 7643 "returned: always" and our choice for meta). */
const ALWAYS = new Set(['id', 'schemas', 'meta']);

export function project<T extends Record<string, unknown>>(
  resource: T,
  projection: Projection,
): Partial<T> {
  if (!projection.attributes && !projection.excluded) return resource;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = key.toLowerCase();
    const wanted = ALWAYS.has(name)
      ? true
      : projection.attributes
        ? projection.attributes.has(name)
        : !projection.excluded!.has(name);
    if (wanted) result[key] = value;
  }
  return result as Partial<T>;
}

/** Whether a projection leaves out an attribute (so that its query can be skipped). */
export function excludes(projection: Projection, attribute: string): boolean {
  const name = attribute.toLowerCase();
  return projection.attributes
    ? !projection.attributes.has(name)
    : !!projection.excluded?.has(name);
}

export function listResponse(resources: unknown[], total: number, startIndex: number) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/** The value of `name` in a SCIM object, whose attribute names are case-insensitive. */
export function member(object: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
