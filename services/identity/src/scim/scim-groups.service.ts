import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ScimEvents } from '@rampart/contracts';
import { Outbox, SERVICE_CONFIG, type Principal } from '@rampart/platform';
import { DataSource, type EntityManager } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { createScimFilterTranslator } from './filter/index.js';
import { scimActor } from './scim.actor.js';
import { invalidValue, resourceNotFound, uniqueness } from './scim.errors.js';
import { applyPatch } from './scim.patch.js';
import { excludes, isObject, member, type ListQuery, type Projection } from './scim.resource.js';
import {
  GROUP_MEMBERS_SQL,
  GROUP_PATCHABLE,
  GROUP_SCHEMA,
  GROUPS_FILTER,
  GROUPS_SORT,
} from './scim.schemas.js';
import { lockedWrite, optionalText, orderBy, requiredText } from './scim.write.js';

/**
 * The most members a group holds. It bounds what one request can make the service load and
 * write, and the member lists in one event.
 */
export const MAX_GROUP_MEMBERS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  members?: { value: string; display: string; type: string }[];
}

interface GroupInput {
  displayName: string;
  externalId: string | null;
  /** Account ids, lower case, without duplicates. */
  members: string[];
}

const columns = (projection: Projection = {}) =>
  `g.id, g.display_name, g.external_id, g.version, g.created_at, g.updated_at` +
  (excludes(projection, 'members') ? '' : `, ${GROUP_MEMBERS_SQL} AS members`);

const translateFilter = createScimFilterTranslator(GROUPS_FILTER);

/**
 * SCIM Groups: a name, the provisioner's id for it, and user members. A write locks the group
 * row, changes only the membership rows that differ and writes the event naming the members
 * added and removed, in one transaction.
 */
@Injectable()
export class ScimGroupsService {
  private readonly location: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
  ) {
    this.location = `${config.RAMPART_ISSUER}/scim/v2/Groups`;
  }

  async get(id: string, projection: Projection = {}) {
    const row = await this.find(this.dataSource.manager, id, projection);
    if (!row) throw resourceNotFound('Group');
    return this.toResource(row);
  }

  async list(query: ListQuery) {
    const where = query.filter ? translateFilter(query.filter) : { sql: 'TRUE', parameters: [] };
    const parameters = [...where.parameters];
    const [{ total }] = (await this.dataSource.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM groups g WHERE ${where.sql}`,
      parameters,
    )) as [{ total: number }];
    const rows =
      query.count === 0
        ? []
        : await this.dataSource.query<GroupRow[]>(
            `SELECT ${columns(query.projection)} FROM groups g WHERE ${where.sql}
              ORDER BY ${orderBy(GROUPS_SORT, query, 'g')}
              LIMIT $${parameters.length + 1} OFFSET $${parameters.length + 2}`,
            [...parameters, query.count, query.startIndex - 1],
          );
    return { total, resources: rows.map((row) => this.toResource(row)) };
  }

  async create(body: unknown, principal: Principal) {
    const input = read(body);
    const id = randomUUID();
    await this.translateConflicts(() =>
      this.dataSource.transaction(async (transaction) => {
        await transaction.query(
          `INSERT INTO groups (id, display_name, external_id) VALUES ($1, $2, $3)`,
          [id, input.displayName, input.externalId],
        );
        await addMembers(transaction, id, input.members);
        await this.outbox.write(transaction, ScimEvents.groupCreated, {
          subject: id,
          data: {
            actor: scimActor(principal),
            groupId: id,
            displayName: input.displayName,
            addedMembers: input.members,
          },
        });
      }),
    );
    return this.get(id);
  }

  async replace(id: string, body: unknown, ifMatch: string | undefined, principal: Principal) {
    const input = read(body);
    return this.write(id, ifMatch, principal, () => input);
  }

  async patch(id: string, body: unknown, ifMatch: string | undefined, principal: Principal) {
    return this.write(id, ifMatch, principal, (current) =>
      read(applyPatch(writable(current), body, GROUP_SCHEMA, GROUP_PATCHABLE)),
    );
  }

  async delete(id: string, ifMatch: string | undefined, principal: Principal): Promise<void> {
    await lockedWrite(
      this.dataSource,
      (transaction) => this.find(transaction, id, { excluded: new Set(['members']) }, true),
      'Group',
      ifMatch,
      async (transaction) => {
        await transaction.query(`DELETE FROM groups WHERE id = $1`, [id]);
        await this.outbox.write(transaction, ScimEvents.groupDeleted, {
          subject: id,
          data: { actor: scimActor(principal), groupId: id },
        });
      },
    );
  }

  private async write(
    id: string,
    ifMatch: string | undefined,
    principal: Principal,
    next: (current: GroupRow) => GroupInput,
  ) {
    await this.translateConflicts(() =>
      lockedWrite(
        this.dataSource,
        (transaction) => this.find(transaction, id, {}, true),
        'Group',
        ifMatch,
        async (transaction, current) => {
          const input = next(current);
          const before = new Set((current.members ?? []).map((m) => m.value.toLowerCase()));
          const after = new Set(input.members);
          const added = input.members.filter((memberId) => !before.has(memberId));
          const removed = [...before].filter((memberId) => !after.has(memberId));
          const changed = [
            ...(current.display_name !== input.displayName ? ['displayName'] : []),
            ...(current.external_id !== input.externalId ? ['externalId'] : []),
            ...(added.length + removed.length > 0 ? ['members'] : []),
          ];
          if (changed.length === 0) return;
          await transaction.query(
            `UPDATE groups SET display_name = $2, external_id = $3,
                    version = version + 1, updated_at = now()
              WHERE id = $1`,
            [id, input.displayName, input.externalId],
          );
          if (removed.length > 0) {
            await transaction.query(
              `DELETE FROM group_members WHERE group_id = $1 AND account_id = ANY($2::uuid[])`,
              [id, removed],
            );
          }
          await addMembers(transaction, id, added);
          await this.outbox.write(transaction, ScimEvents.groupUpdated, {
            subject: id,
            data: {
              actor: scimActor(principal),
              groupId: id,
              changed,
              addedMembers: added,
              removedMembers: removed,
            },
          });
        },
      ),
    );
    return this.get(id);
  }

  /** The group, or undefined; `lock` locks the group row until the transaction ends. */
  private async find(
    manager: EntityManager,
    id: string,
    projection: Projection = {},
    lock = false,
  ): Promise<GroupRow | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await manager.query<GroupRow[]>(
      `SELECT ${columns(projection)} FROM groups g WHERE g.id = $1${lock ? ' FOR UPDATE OF g' : ''}`,
      [id],
    );
    return row;
  }

  private async translateConflicts<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === UNIQUE_VIOLATION) throw uniqueness('Another group has this displayName.');
      // A member deleted between the check in addMembers and the insert.
      if (code === FOREIGN_KEY_VIOLATION) throw invalidValue('members: a member is not a user.');
      throw error;
    }
  }

  private toResource(row: GroupRow) {
    return {
      schemas: [GROUP_SCHEMA],
      id: row.id,
      ...(row.external_id === null ? {} : { externalId: row.external_id }),
      displayName: row.display_name,
      ...(row.members === undefined
        ? {}
        : {
            members: row.members.map((m) => ({
              ...m,
              $ref: `${this.location.replace(/Groups$/, 'Users')}/${m.value}`,
            })),
          }),
      meta: {
        resourceType: 'Group',
        created: row.created_at.toISOString(),
        lastModified: row.updated_at.toISOString(),
        location: `${this.location}/${row.id}`,
        version: `W/"${row.version}"`,
      },
    };
  }
}

/** Inserts memberships after checking that every id is a user (naming the first few that are not). */
async function addMembers(transaction: EntityManager, groupId: string, members: string[]) {
  if (members.length === 0) return;
  const missing = await transaction.query<{ id: string }[]>(
    `SELECT id FROM unnest($1::uuid[]) AS wanted(id)
      WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE accounts.id = wanted.id) LIMIT 5`,
    [members],
  );
  if (missing.length > 0) {
    throw invalidValue(`members: no user with id ${missing.map((row) => row.id).join(', ')}.`);
  }
  await transaction.query(
    `INSERT INTO group_members (group_id, account_id)
     SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
    [groupId, members],
  );
}

function writable(row: GroupRow): Record<string, unknown> {
  return {
    displayName: row.display_name,
    ...(row.external_id === null ? {} : { externalId: row.external_id }),
    members: (row.members ?? []).map((m) => ({ value: m.value, display: m.display })),
  };
}

function read(body: unknown): GroupInput {
  if (!isObject(body)) throw invalidValue('The body must be a SCIM Group object.');
  const displayName = requiredText(body, 'displayName', 256);
  const list = member(body, 'members');
  if (list !== undefined && list !== null && !Array.isArray(list)) {
    throw invalidValue('members must be an array.');
  }
  const members = new Set<string>();
  for (const [index, entry] of (list ?? []).entries()) {
    const value = isObject(entry) ? member(entry, 'value') : undefined;
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw invalidValue(`members[${index}].value must be a User id.`);
    }
    const type = member(entry as Record<string, unknown>, 'type');
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'user')) {
      throw invalidValue(
        `members[${index}]: only users can be members (nested groups are not supported).`,
      );
    }
    members.add(value.toLowerCase());
  }
  if (members.size > MAX_GROUP_MEMBERS) {
    throw invalidValue(`A group holds at most ${MAX_GROUP_MEMBERS} members.`);
  }
  return {
    displayName,
    externalId: optionalText(body, 'externalId', 256),
    members: [...members],
  };
}
