import {
  concurrentModification,
  invalidValue,
  preconditionFailed,
  resourceNotFound,
} from './scim.errors.js';
import { etagMatches, member, type ListQuery } from './scim.resource.js';

/** How often a write is recomputed when another writer changed the resource in between. */
const MAX_ATTEMPTS = 5;

/**
 * Runs a compare-and-set write: loads the resource, checks `If-Match` against its version, and
 * lets `attempt` write conditionally on that version. `attempt` answers undefined when the
 * version moved meanwhile; the write is then recomputed on the new state (or refused with 412
 * if the client asked for the version it had seen).
 */
export async function withVersionCheck<R extends { version: number }, T>(
  load: () => Promise<R | undefined>,
  resourceType: 'User' | 'Group',
  ifMatch: string | undefined,
  attempt: (current: R) => Promise<T | undefined>,
): Promise<T> {
  for (let tries = 0; tries < MAX_ATTEMPTS; tries++) {
    const current = await load();
    if (!current) throw resourceNotFound(resourceType);
    if (ifMatch !== undefined && !etagMatches(ifMatch, current.version)) {
      throw preconditionFailed();
    }
    const result = await attempt(current);
    if (result !== undefined) return result;
  }
  throw concurrentModification();
}

/** PostgreSQL text cannot hold NUL; refused as bad input rather than failing in the database. */
function checkText(value: string, label: string, maxLength: number): string {
  if (value.includes('\u0000')) throw invalidValue(`${label} must not contain NUL characters.`);
  if ([...value].length > maxLength) {
    throw invalidValue(`${label} must be at most ${maxLength} characters.`);
  }
  return value;
}

export function requiredText(
  object: Record<string, unknown>,
  name: string,
  maxLength: number,
): string {
  const value = member(object, name);
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidValue(`${name} is required and must be a non-empty string.`);
  }
  return checkText(value, name, maxLength);
}

/** A string attribute that may be absent (null; an empty string also clears it). */
export function optionalText(
  object: Record<string, unknown>,
  name: string,
  maxLength: number,
  label = name,
): string | null {
  const value = member(object, name);
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalidValue(`${label} must be a string.`);
  return checkText(value, label, maxLength);
}

/** A boolean, also written as the strings "true"/"false" in any case (Azure AD sends "False"). */
export function readBoolean(value: unknown, label: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) {
    return value.toLowerCase() === 'true';
  }
  throw invalidValue(`${label} must be true or false.`);
}

/** The ORDER BY of a list: `sortBy` from the whitelist, else creation order; id breaks ties. */
export function orderBy(
  columns: Readonly<Record<string, string>>,
  query: ListQuery,
  alias: string,
): string {
  const direction = query.descending ? 'DESC' : 'ASC';
  if (query.sortBy === undefined) return `${alias}.created_at ${direction}, ${alias}.id`;
  const path = query.sortBy.replace(/^urn:ietf:params:scim:schemas:core:2\.0:(User|Group):/i, '');
  const column = columns[path.toLowerCase()];
  if (!column) throw invalidValue(`Cannot sort by "${query.sortBy}".`);
  return `${column} ${direction} NULLS LAST, ${alias}.id`;
}
