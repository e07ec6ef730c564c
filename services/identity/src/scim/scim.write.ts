import type { DataSource, EntityManager } from 'typeorm';
import { invalidValue, preconditionFailed, resourceNotFound } from './scim.errors.js';
import { etagMatches, member, type ListQuery } from './scim.resource.js';

/**
 * Runs a write on one resource in a transaction: `load` reads it with its row locked
 * (`FOR UPDATE`), `If-Match` is checked against that version, and `write` computes and stores
 * the change from what it read. Concurrent writers to one resource thus queue up and each
 * sees the previous one's result: no change is lost, and no writer has to retry.
 */
export async function lockedWrite<R extends { version: number }, T>(
  dataSource: DataSource,
  load: (transaction: EntityManager) => Promise<R | undefined>,
  resourceType: 'User' | 'Group',
  ifMatch: string | undefined,
  write: (transaction: EntityManager, current: R) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (transaction) => {
    const current = await load(transaction);
    if (!current) throw resourceNotFound(resourceType);
    if (ifMatch !== undefined && !etagMatches(ifMatch, current.version)) {
      throw preconditionFailed();
    }
    return write(transaction, current);
  });
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
