import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ScimEvents } from '@rampart/contracts';
import { describePrincipal, Outbox, SERVICE_CONFIG, type Principal } from '@rampart/platform';
import { DataSource, type EntityManager } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { isMailAddress } from '../mail/mailer.js';
import { PasswordHasher } from '../passwords/password-hasher.js';
import { PasswordPolicy } from '../passwords/password-policy.js';
import {
  SessionsService,
  type EndedSession,
  type SessionActor,
} from '../sessions/sessions.service.js';
import { createScimFilterTranslator } from './filter/index.js';
import { scimActor } from './scim.actor.js';
import { invalidValue, resourceNotFound, uniqueness } from './scim.errors.js';
import { applyPatch } from './scim.patch.js';
import { excludes, isObject, member, type ListQuery, type Projection } from './scim.resource.js';
import {
  USER_GROUPS_SQL,
  USER_PATCHABLE,
  USER_SCHEMA,
  USERS_FILTER,
  USERS_SORT,
} from './scim.schemas.js';
import { optionalText, orderBy, readBoolean, requiredText, lockedWrite } from './scim.write.js';

/**
 * A SCIM userName: 1 to 64 letters, digits and `. _ - @ +`, starting with a letter or digit.
 * Wider than self-registration (which has no `@` or `+`), because directories provision users by
 * their principal name, `alice@example.com`; 64 is the longest name sign-in looks up.
 */
const SCIM_USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const UNIQUE_VIOLATION = '23505';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface UserRow {
  id: string;
  username: string;
  email: string;
  status: 'ACTIVE' | 'DISABLED' | 'DELETION_REQUESTED';
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  external_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  groups?: { value: string; display: string; type: string }[];
}

/** A User resource as a client writes it, validated. */
interface UserInput {
  userName: string;
  externalId: string | null;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string;
  active: boolean;
  password?: string;
}

const columns = (projection: Projection = {}) =>
  `a.id, a.username, a.email, a.status, a.given_name, a.family_name, a.display_name,
   a.external_id, a.version, a.created_at, a.updated_at` +
  (excludes(projection, 'groups') ? '' : `, ${USER_GROUPS_SQL} AS groups`);

const translateFilter = createScimFilterTranslator(USERS_FILTER);

/**
 * SCIM Users over the accounts table. Every write is one transaction with its event, computed
 * from the row read under lock, so two concurrent PATCHes cannot lose each other's changes.
 * Passwords are policy-checked and hashed like a self-chosen one, never stored or returned in
 * any other form.
 */
@Injectable()
export class ScimUsersService {
  private readonly location: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly sessions: SessionsService,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
  ) {
    this.location = `${config.RAMPART_ISSUER}/scim/v2/Users`;
  }

  async get(id: string, projection: Projection = {}) {
    const row = await this.find(this.dataSource.manager, id, projection);
    if (!row) throw resourceNotFound('User');
    return this.toResource(row);
  }

  async list(query: ListQuery) {
    const where = query.filter ? translateFilter(query.filter) : { sql: 'TRUE', parameters: [] };
    const parameters = [...where.parameters];
    const [{ total }] = (await this.dataSource.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM accounts a WHERE ${where.sql}`,
      parameters,
    )) as [{ total: number }];
    const rows =
      query.count === 0
        ? []
        : await this.dataSource.query<UserRow[]>(
            `SELECT ${columns(query.projection)} FROM accounts a WHERE ${where.sql}
              ORDER BY ${orderBy(USERS_SORT, query, 'a')}
              LIMIT $${parameters.length + 1} OFFSET $${parameters.length + 2}`,
            [...parameters, query.count, query.startIndex - 1],
          );
    return { total, resources: rows.map((row) => this.toResource(row)) };
  }

  async create(body: unknown, principal: Principal) {
    const input = this.read(body);
    const passwordHash = await this.passwordHash(input, true);
    const id = randomUUID();
    const row = await this.translateConflicts(() =>
      this.dataSource.transaction(async (transaction) => {
        const [inserted] = await transaction.query<UserRow[]>(
          `INSERT INTO accounts AS a (id, username, email, email_verified_at, password_hash, status,
                                      given_name, family_name, display_name, external_id)
           VALUES ($1, $2, $3, now(), $4, $5, $6, $7, $8, $9)
           RETURNING ${columns()}`,
          [
            id,
            input.userName,
            input.email,
            passwordHash,
            input.active ? 'ACTIVE' : 'DISABLED',
            input.givenName,
            input.familyName,
            input.displayName,
            input.externalId,
          ],
        );
        await this.outbox.write(transaction, ScimEvents.userCreated, {
          subject: id,
          data: {
            actor: scimActor(principal),
            userId: id,
            userName: input.userName,
            active: input.active,
            passwordSet: input.password !== undefined,
          },
        });
        return inserted!;
      }),
    );
    return this.toResource(row);
  }

  /** PUT: the body replaces every writable attribute; an absent password keeps the current one. */
  async replace(id: string, body: unknown, ifMatch: string | undefined, principal: Principal) {
    const input = this.read(body);
    const passwordHash = await this.passwordHash(input, false);
    return this.write(id, ifMatch, principal, passwordHash, () => input);
  }

  /**
   * PATCH: the operations are applied to the current resource, then written like a PUT. They are
   * applied once before the row is locked, to refuse bad requests and hash a new password
   * without holding the lock, and again to the locked row, which is what gets written.
   */
  async patch(id: string, body: unknown, ifMatch: string | undefined, principal: Principal) {
    const patched = (row: UserRow) =>
      this.read(applyPatch(this.writable(row), body, USER_SCHEMA, USER_PATCHABLE));
    const preview = await this.find(this.dataSource.manager, id);
    if (!preview) throw resourceNotFound('User');
    const passwordHash = await this.passwordHash(patched(preview), false);
    return this.write(id, ifMatch, principal, passwordHash, (current) => {
      const input = patched(current);
      // The password is the request's own value; its policy check may depend on the names.
      if (input.password !== undefined) this.checkPolicy(input.password, input);
      return input;
    });
  }

  /**
   * DELETE: the account goes, with its memberships and e-mail verifications (ON DELETE CASCADE);
   * its groups get a new version, since their member lists changed.
   */
  async delete(id: string, ifMatch: string | undefined, principal: Principal): Promise<void> {
    let ended: EndedSession[] = [];
    await lockedWrite(
      this.dataSource,
      (transaction) => this.find(transaction, id, { excluded: new Set(['groups']) }, true),
      'User',
      ifMatch,
      async (transaction) => {
        await transaction.query(
          `UPDATE groups SET version = version + 1, updated_at = now()
            WHERE id IN (SELECT group_id FROM group_members WHERE account_id = $1)`,
          [id],
        );
        // Its sessions, grants and tokens end with it, or the deletion does not happen.
        ended = await this.sessions.revokeAllWithin(
          transaction,
          id,
          sessionActor(principal),
          'account-deleted',
        );
        await transaction.query(`DELETE FROM accounts WHERE id = $1`, [id]);
        await this.outbox.write(transaction, ScimEvents.userDeleted, {
          subject: id,
          data: { actor: scimActor(principal), userId: id },
        });
      },
    );
    await this.sessions.notifyClients(ended);
  }

  private async write(
    id: string,
    ifMatch: string | undefined,
    principal: Principal,
    passwordHash: string | undefined,
    next: (current: UserRow) => UserInput,
  ) {
    let ended: EndedSession[] = [];
    const row = await this.translateConflicts(() =>
      lockedWrite(
        this.dataSource,
        (transaction) => this.find(transaction, id, {}, true),
        'User',
        ifMatch,
        async (transaction, current) => {
          const input = next(current);
          const changed = this.changes(current, input);
          if (changed.length === 0) return current;
          // An account whose holder asked for deletion stays so: `active` cannot revive it.
          const [[updated]] = await transaction.query<[UserRow[], number]>(
            `UPDATE accounts AS a SET
               username = $2, email = $3,
               email_verified_at = CASE WHEN email = $3 AND email_verified_at IS NOT NULL
                                        THEN email_verified_at ELSE now() END,
               status = CASE WHEN status = 'DELETION_REQUESTED' THEN status
                             WHEN $4 THEN 'ACTIVE' ELSE 'DISABLED' END,
               given_name = $5, family_name = $6, display_name = $7, external_id = $8,
               password_hash = coalesce($9, password_hash),
               password_changed_at = CASE WHEN $9::text IS NULL THEN password_changed_at
                                          ELSE now() END,
               version = version + 1, updated_at = now()
             WHERE id = $1
             RETURNING ${columns()}`,
            [
              id,
              input.userName,
              input.email,
              input.active,
              input.givenName,
              input.familyName,
              input.displayName,
              input.externalId,
              input.password === undefined ? null : passwordHash,
            ],
          );
          if (current.status === 'ACTIVE' && updated!.status !== 'ACTIVE') {
            // Deactivation ends every session and grant in the same transaction.
            ended = await this.sessions.revokeAllWithin(
              transaction,
              id,
              sessionActor(principal),
              'account-disabled',
            );
          }
          await this.outbox.write(transaction, ScimEvents.userUpdated, {
            subject: id,
            data: {
              actor: scimActor(principal),
              userId: id,
              changed,
              active: updated!.status === 'ACTIVE',
            },
          });
          return updated!;
        },
      ),
    );
    await this.sessions.notifyClients(ended);
    return this.toResource(row);
  }

  /**
   * The user, or undefined. `lock` takes the row lock an UPDATE takes (FOR NO KEY UPDATE) until
   * the transaction ends: it orders writers to this user, yet lets a group write check its
   * foreign key to the account meanwhile, so a user write and a group write never deadlock.
   */
  private async find(
    manager: EntityManager,
    id: string,
    projection: Projection = {},
    lock = false,
  ): Promise<UserRow | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await manager.query<UserRow[]>(
      `SELECT ${columns(projection)} FROM accounts a WHERE a.id = $1${lock ? ' FOR NO KEY UPDATE OF a' : ''}`,
      [id],
    );
    return row;
  }

  /**
   * A User body, validated. Unknown attributes (extension schemas, attributes this server does not
   * keep) are ignored; read-only ones (`id`, `meta`, `groups`) too, as RFC 7644 allows.
   */
  private read(body: unknown): UserInput {
    if (!isObject(body)) throw invalidValue('The body must be a SCIM User object.');
    const userName = requiredText(body, 'userName', 64).trim();
    if (!SCIM_USERNAME.test(userName)) {
      throw invalidValue(
        'userName must be 1 to 64 letters, digits, ".", "_", "-", "@" or "+", starting with a letter or digit.',
      );
    }
    const name = member(body, 'name');
    if (name !== undefined && name !== null && !isObject(name)) {
      throw invalidValue('name must be an object.');
    }
    const password = member(body, 'password');
    if (password !== undefined && password !== null && typeof password !== 'string') {
      throw invalidValue('password must be a string.');
    }
    return {
      userName,
      externalId: optionalText(body, 'externalId', 256),
      displayName: optionalText(body, 'displayName', 256),
      givenName: isObject(name) ? optionalText(name, 'givenName', 256, 'name.givenName') : null,
      familyName: isObject(name) ? optionalText(name, 'familyName', 256, 'name.familyName') : null,
      email: readEmail(member(body, 'emails')),
      active: readBoolean(member(body, 'active'), 'active') ?? true,
      ...(typeof password === 'string' ? { password } : {}),
    };
  }

  /** The current writable attributes, as the document a PATCH applies to. */
  private writable(row: UserRow): Record<string, unknown> {
    return {
      userName: row.username,
      ...(row.external_id === null ? {} : { externalId: row.external_id }),
      ...(row.display_name === null ? {} : { displayName: row.display_name }),
      name: {
        ...(row.given_name === null ? {} : { givenName: row.given_name }),
        ...(row.family_name === null ? {} : { familyName: row.family_name }),
      },
      emails: [{ value: row.email, type: 'work', primary: true }],
      active: row.status === 'ACTIVE',
    };
  }

  private changes(row: UserRow, input: UserInput): string[] {
    const changed: string[] = [];
    if (row.username !== input.userName) changed.push('userName');
    if (row.external_id !== input.externalId) changed.push('externalId');
    if (row.display_name !== input.displayName) changed.push('displayName');
    if (row.given_name !== input.givenName) changed.push('name.givenName');
    if (row.family_name !== input.familyName) changed.push('name.familyName');
    if (row.email !== input.email) changed.push('emails');
    if ((row.status === 'ACTIVE') !== input.active && row.status !== 'DELETION_REQUESTED') {
      changed.push('active');
    }
    if (input.password !== undefined) changed.push('password');
    return changed;
  }

  /**
   * The hash to store: the policy decides first (with the user's names as identifiers, as at
   * sign-up). A user created without a password gets the hash of 32 random bytes, which nobody
   * knows: they cannot sign in with a password until one is set.
   */
  private async passwordHash(input: UserInput, creating: boolean): Promise<string | undefined> {
    if (input.password === undefined) {
      return creating ? this.hasher.hash(randomBytes(32).toString('base64url')) : undefined;
    }
    this.checkPolicy(input.password, input);
    return this.hasher.hash(input.password);
  }

  /** The password policy of self-registration, with the user's names as identifiers. */
  private checkPolicy(password: string, input: UserInput): void {
    const verdict = this.policy.check(password, [input.userName, input.email]);
    if (!verdict.ok) {
      throw invalidValue(
        `password does not meet the password policy (${verdict.reason}; ${verdict.minLength} to ${verdict.maxLength} characters, not common, not the user's name or address).`,
      );
    }
  }

  private async translateConflicts<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code !== UNIQUE_VIOLATION) throw error;
      // The provisioning client administers these accounts: it may learn which value is taken.
      throw uniqueness(
        constraint === 'accounts_username'
          ? 'userName is already taken.'
          : 'Another user has this e-mail address.',
      );
    }
  }

  private toResource(row: UserRow) {
    return {
      schemas: [USER_SCHEMA],
      id: row.id,
      ...(row.external_id === null ? {} : { externalId: row.external_id }),
      userName: row.username,
      ...(row.given_name === null && row.family_name === null
        ? {}
        : {
            name: {
              ...(row.given_name === null ? {} : { givenName: row.given_name }),
              ...(row.family_name === null ? {} : { familyName: row.family_name }),
            },
          }),
      ...(row.display_name === null ? {} : { displayName: row.display_name }),
      emails: [{ value: row.email, type: 'work', primary: true }],
      active: row.status === 'ACTIVE',
      ...(row.groups === undefined ? {} : { groups: row.groups }),
      meta: {
        resourceType: 'User',
        created: row.created_at.toISOString(),
        lastModified: row.updated_at.toISOString(),
        location: `${this.location}/${row.id}`,
        version: `W/"${row.version}"`,
      },
    };
  }
}

/**
 * The account's one address: the primary of `emails`, or the first. An account needs one, and
 * since the provisioning client vouches for it, it counts as verified.
 */
function readEmail(emails: unknown): string {
  if (!Array.isArray(emails) || emails.length === 0) {
    throw invalidValue("emails must hold the user's e-mail address.");
  }
  const candidates = emails as unknown[];
  const chosen =
    candidates.find((email) => isObject(email) && member(email, 'primary') === true) ??
    candidates[0];
  const value = isObject(chosen) ? member(chosen, 'value') : undefined;
  const address = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!isMailAddress(address)) throw invalidValue('emails: the value must be an e-mail address.');
  return address;
}

/** A provisioning client ending a person's sessions, as session events record it. */
function sessionActor(principal: Principal): SessionActor {
  return { by: 'admin', actor: describePrincipal(principal) };
}
