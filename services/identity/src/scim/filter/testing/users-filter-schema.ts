import type { ScimFilterSchema } from '../filter.translator.js';

/**
 * A whitelist shaped like the one the Users endpoint will use, over the small `users` table the
 * filter tests create (see {@link USERS_TABLE}).
 */
export const USERS_FILTER_SCHEMA: ScimFilterSchema = {
  coreSchema: 'urn:ietf:params:scim:schemas:core:2.0:User',
  attributes: {
    id: { sql: 'id::text', type: 'string', caseExact: true },
    userName: { sql: 'user_name', type: 'string' },
    title: { sql: 'title', type: 'string' },
    active: { sql: 'active', type: 'boolean' },
    loginCount: { sql: 'login_count', type: 'integer' },
    score: { sql: 'score', type: 'decimal' },
    'name.familyName': { sql: 'family_name', type: 'string' },
    'name.givenName': { sql: 'given_name', type: 'string' },
    'meta.lastModified': { sql: 'updated_at', type: 'dateTime' },
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': {
      sql: 'employee_number',
      type: 'string',
      caseExact: true,
    },
    emails: {
      jsonbArray: 'emails',
      subAttributes: {
        value: { type: 'string' },
        type: { type: 'string' },
        primary: { type: 'boolean' },
      },
    },
  },
};

export const USERS_TABLE = `
  CREATE TABLE users (
    id integer PRIMARY KEY,
    user_name text NOT NULL,
    title text,
    active boolean NOT NULL,
    login_count integer NOT NULL,
    score numeric,
    family_name text,
    given_name text,
    updated_at timestamptz NOT NULL,
    employee_number text,
    emails jsonb CHECK (jsonb_typeof(emails) = 'array')
  )`;
