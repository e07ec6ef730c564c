import type { ScimFilterSchema } from './filter/index.js';
import type { PatchableAttributes } from './scim.patch.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** A user's groups, as the User resource's read-only `groups` attribute (jsonb array). */
export const USER_GROUPS_SQL = `(SELECT coalesce(jsonb_agg(jsonb_build_object('value', g.id::text, 'display', g.display_name, 'type', 'direct') ORDER BY lower(g.display_name)), '[]'::jsonb)
   FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.account_id = a.id)`;

/** A group's members (jsonb array); `display` is the member's userName. */
export const GROUP_MEMBERS_SQL = `(SELECT coalesce(jsonb_agg(jsonb_build_object('value', m.account_id::text, 'display', a.username, 'type', 'User') ORDER BY lower(a.username)), '[]'::jsonb)
   FROM group_members m JOIN accounts a ON a.id = m.account_id WHERE m.group_id = g.id)`;

/**
 * What `GET /Users?filter=` may name, over `accounts a`. `userName eq` uses the unique index on
 * `lower(username)`. An account has one e-mail address, shown as the primary work address.
 */
export const USERS_FILTER: ScimFilterSchema = {
  coreSchema: USER_SCHEMA,
  attributes: {
    id: { sql: 'a.id::text', type: 'string' },
    userName: { sql: 'a.username', type: 'string' },
    externalId: { sql: 'a.external_id', type: 'string', caseExact: true },
    displayName: { sql: 'a.display_name', type: 'string' },
    'name.givenName': { sql: 'a.given_name', type: 'string' },
    'name.familyName': { sql: 'a.family_name', type: 'string' },
    active: { sql: `a.status = 'ACTIVE'`, type: 'boolean' },
    'meta.created': { sql: 'a.created_at', type: 'dateTime' },
    'meta.lastModified': { sql: 'a.updated_at', type: 'dateTime' },
    emails: {
      jsonbArray: `jsonb_build_array(jsonb_build_object('value', a.email, 'type', 'work', 'primary', true))`,
      subAttributes: {
        value: { type: 'string' },
        type: { type: 'string' },
        primary: { type: 'boolean' },
      },
    },
    groups: {
      jsonbArray: USER_GROUPS_SQL,
      subAttributes: { value: { type: 'string' }, display: { type: 'string' } },
    },
  },
};

/** What `GET /Groups?filter=` may name, over `groups g`. */
export const GROUPS_FILTER: ScimFilterSchema = {
  coreSchema: GROUP_SCHEMA,
  attributes: {
    id: { sql: 'g.id::text', type: 'string' },
    displayName: { sql: 'g.display_name', type: 'string' },
    externalId: { sql: 'g.external_id', type: 'string', caseExact: true },
    'meta.created': { sql: 'g.created_at', type: 'dateTime' },
    'meta.lastModified': { sql: 'g.updated_at', type: 'dateTime' },
    members: {
      jsonbArray: GROUP_MEMBERS_SQL,
      subAttributes: { value: { type: 'string' }, display: { type: 'string' } },
    },
  },
};

/** `sortBy` values and their columns; anything else is refused. */
export const USERS_SORT: Readonly<Record<string, string>> = {
  username: 'lower(a.username)',
  displayname: 'lower(a.display_name)',
  externalid: 'a.external_id',
  'name.givenname': 'lower(a.given_name)',
  'name.familyname': 'lower(a.family_name)',
  'meta.created': 'a.created_at',
  'meta.lastmodified': 'a.updated_at',
};

export const GROUPS_SORT: Readonly<Record<string, string>> = {
  displayname: 'lower(g.display_name)',
  externalid: 'g.external_id',
  'meta.created': 'g.created_at',
  'meta.lastmodified': 'g.updated_at',
};

export const USER_PATCHABLE: PatchableAttributes = {
  username: { name: 'userName', kind: 'simple' },
  externalid: { name: 'externalId', kind: 'simple' },
  displayname: { name: 'displayName', kind: 'simple' },
  name: { name: 'name', kind: 'complex' },
  emails: { name: 'emails', kind: 'multi' },
  active: { name: 'active', kind: 'simple' },
  password: { name: 'password', kind: 'simple' },
};

export const GROUP_PATCHABLE: PatchableAttributes = {
  displayname: { name: 'displayName', kind: 'simple' },
  externalid: { name: 'externalId', kind: 'simple' },
  members: { name: 'members', kind: 'multi' },
};
