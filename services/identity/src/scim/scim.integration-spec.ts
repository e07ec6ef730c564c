import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type RunningService } from '@rampart/platform';
import {
  createTestDatabase,
  startTestTokenIssuer,
  type TestDatabase,
  type TestTokenIssuer,
} from '@rampart/platform/testing-support';
import { AccountsService } from '../accounts/accounts.service.js';
import { identityService } from '../identity.service.js';
import { identityTestEnv } from '../testing/identity-test-env.js';

const ISSUER = 'http://localhost:8080';
const AUDIENCE = `${ISSUER}/scim/v2`;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PASSWORD = 'provisioned horse battery staple';
const CONTEXT = { ip: '203.0.113.9', userAgent: 'jest (scim test)' };

/** A SCIM response body, typed as far as the assertions read it. */
interface ScimBody {
  id: string;
  meta: { version: string; location: string };
  Resources: ScimBody[];
  members: { value: string }[];
  attributes: { name: string }[];
  [attribute: string]: unknown;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: ScimBody;
}

describe('SCIM 2.0 at /scim/v2 (identity service on real PostgreSQL, real HTTP, real tokens)', () => {
  let database: TestDatabase;
  let folder: string;
  let issuer: TestTokenIssuer;
  let service: RunningService;
  let accounts: AccountsService;
  let token: string;
  /** Every response body the suite received: none may contain a password. */
  const responses: string[] = [];
  /** Every status the suite received: a 5xx is a defect whatever the input. */
  const statuses: number[] = [];
  /** Every password the suite sent. */
  const passwords = new Set<string>([PASSWORD]);

  async function call(
    method: string,
    path: string,
    options: {
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
      token?: string | null;
    } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    const bearer = options.token === undefined ? token : options.token;
    if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
    let body: string | undefined;
    if (options.raw !== undefined || options.body !== undefined) {
      body = options.raw ?? JSON.stringify(options.body);
      headers['content-type'] ??= 'application/scim+json';
    }
    const response = await fetch(`${service.url}/scim/v2${path}`, { method, headers, body });
    const text = await response.text();
    responses.push(text);
    statuses.push(response.status);
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text ? JSON.parse(text) : {}) as ScimBody,
    };
  }

  async function events(type: string) {
    const rows = await service.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
      [type],
    );
    return rows.map(
      (row) => JSON.parse(row.payload) as { subject: string; data: Record<string, unknown> },
    );
  }

  function expectScimError(answer: Answer, status: number, scimType?: string) {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(answer.body).toMatchObject({ schemas: [ERROR], status: String(status) });
    expect(answer.body['scimType']).toBe(scimType);
    expect(typeof answer.body['detail']).toBe('string');
  }

  async function createUser(userName: string, extra: Record<string, unknown> = {}) {
    const answer = await call('POST', '/Users', {
      body: {
        schemas: [USER],
        userName,
        emails: [{ value: `${userName.replace(/@.*/, '')}@Example.org`, primary: true }],
        ...extra,
      },
    });
    expect(answer.status).toBe(201);
    return answer.body;
  }

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    folder = await mkdtemp(join(tmpdir(), 'rampart-identity-scim-'));
    issuer = await startTestTokenIssuer();
    service = await startService(identityService, {
      env: await identityTestEnv(database, {
        IDENTITY_MAILBOX_DIR: join(folder, 'mailbox'),
        ...issuer.env(AUDIENCE),
      }),
    });
    accounts = service.app.get(AccountsService);
    token = await issuer.mint({ sub: 'okta-provisioner', scope: 'scim', audience: AUDIENCE });
  });

  afterAll(async () => {
    await service?.stop();
    await issuer?.close();
    await database?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  describe('access', () => {
    it('answers 401 with a Bearer challenge, in SCIM form, without a token or with a bad one', async () => {
      const none = await call('GET', '/Users', { token: null });
      expectScimError(none, 401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');

      const foreign = await issuer.mint({ sub: 'x', scope: 'scim', audience: 'urn:rampart:other' });
      const wrongAudience = await call('GET', '/Users', { token: foreign });
      expectScimError(wrongAudience, 401);
      expect(wrongAudience.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it('answers 403 to a token without the scim scope, and records the refusal', async () => {
      const unscoped = await issuer.mint({ sub: 'reader', scope: 'openid', audience: AUDIENCE });
      const answer = await call('POST', '/Users', {
        token: unscoped,
        body: { userName: 'nobody', emails: [{ value: 'nobody@example.org' }] },
      });
      expectScimError(answer, 403);
      expect(answer.headers.get('www-authenticate')).toContain('insufficient_scope');
      const refused = await events('rampart.identity.scim.request-refused');
      expect(refused.map((event) => event.data)).toContainEqual({
        method: 'POST',
        path: '/scim/v2/Users',
        status: 403,
      });
      // Nothing was created.
      const [row] = await service.dataSource!.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM accounts WHERE username = 'nobody'`,
      );
      expect(row!.n).toBe(0);
    });
  });

  describe('discovery', () => {
    it('describes the server, its resource types and schemas', async () => {
      const config = await call('GET', '/ServiceProviderConfig');
      expect(config.status).toBe(200);
      expect(config.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(config.body).toMatchObject({
        patch: { supported: true },
        bulk: { supported: false },
        filter: { supported: true, maxResults: 200 },
        etag: { supported: true },
        sort: { supported: true },
      });
      const types = await call('GET', '/ResourceTypes');
      expect(types.body.Resources.map((type) => type.id)).toEqual(['User', 'Group']);
      const schema = await call('GET', `/Schemas/${USER}`);
      expect(schema.status).toBe(200);
      const password = schema.body.attributes.find((attribute) => attribute.name === 'password');
      expect(password).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
      expectScimError(await call('GET', '/Schemas/urn:nope'), 404);
    });
  });

  describe('Users', () => {
    it('creates a user who can sign in at once with the provisioned password', async () => {
      const answer = await call('POST', '/Users', {
        body: {
          schemas: [USER],
          userName: 'Carol.Provisioned@example.com',
          externalId: 'okta-00u1',
          name: { givenName: 'Carol', familyName: 'Prov' },
          displayName: 'Carol <b>Prov</b>',
          emails: [
            { value: 'carol.home@example.net', type: 'home' },
            { value: 'Carol@Example.com', type: 'work', primary: true },
          ],
          password: PASSWORD,
          'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D' },
        },
      });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      const user = answer.body;
      expect(user).toMatchObject({
        schemas: [USER],
        userName: 'Carol.Provisioned@example.com',
        externalId: 'okta-00u1',
        name: { givenName: 'Carol', familyName: 'Prov' },
        displayName: 'Carol <b>Prov</b>',
        emails: [{ value: 'carol@example.com', type: 'work', primary: true }],
        active: true,
        groups: [],
        meta: {
          resourceType: 'User',
          location: `${ISSUER}/scim/v2/Users/${user['id']}`,
          version: 'W/"1"',
        },
      });
      expect(user).not.toHaveProperty('password');
      expect(answer.headers.get('location')).toBe(user['meta'].location);
      expect(answer.headers.get('etag')).toBe('W/"1"');

      const signIn = await accounts.authenticate(
        'carol.provisioned@EXAMPLE.com',
        PASSWORD,
        CONTEXT,
      );
      expect(signIn).toMatchObject({
        ok: true,
        account: { id: user['id'], emailVerified: true, status: 'ACTIVE' },
      });

      const [created] = await events('rampart.identity.scim.user-created');
      expect(created).toMatchObject({
        subject: user['id'],
        data: {
          actor: { subject: 'okta-provisioner', clientId: 'test-client' },
          userId: user['id'],
          userName: 'Carol.Provisioned@example.com',
          active: true,
          passwordSet: true,
        },
      });
    });

    it('creates a user without a password who cannot sign in with any password', async () => {
      const user = await createUser('nopassword');
      const [row] = await service.dataSource!.query<{ password_hash: string }[]>(
        `SELECT password_hash FROM accounts WHERE id = $1`,
        [user['id']],
      );
      expect(row!.password_hash).toMatch(/^\$argon2id\$/);
      expect(await accounts.authenticate('nopassword', '', CONTEXT)).toEqual({
        ok: false,
        reason: 'bad-password',
      });
      const created = await events('rampart.identity.scim.user-created');
      expect(created.at(-1)!.data['passwordSet']).toBe(false);
    });

    it('reads a user with an ETag, and answers 304 to If-None-Match with that ETag', async () => {
      const user = await createUser('etagged');
      const read = await call('GET', `/Users/${user['id']}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(user);
      expect(read.headers.get('etag')).toBe('W/"1"');

      const unchanged = await call('GET', `/Users/${user['id']}`, {
        headers: { 'if-none-match': 'W/"1"' },
      });
      expect(unchanged.status).toBe(304);
      expect(unchanged.text).toBe('');
      const changed = await call('GET', `/Users/${user['id']}`, {
        headers: { 'if-none-match': 'W/"7"' },
      });
      expect(changed.status).toBe(200);

      const projected = await call('GET', `/Users/${user['id']}?attributes=userName`);
      expect(Object.keys(projected.body).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
    });

    it('lists with filters (eq, co, sw, and, pr, or, not), pagination and sorting', async () => {
      for (const name of ['list-anna', 'list-bert', 'list-cleo', 'list-dora', 'list-emil']) {
        await createUser(name, { displayName: `Display ${name.slice(5)}` });
      }
      const names = async (query: string) => {
        const answer = await call('GET', `/Users?${query}`);
        expect(answer.status).toBe(200);
        expect(answer.body['schemas']).toEqual([
          'urn:ietf:params:scim:api:messages:2.0:ListResponse',
        ]);
        return answer.body as unknown as {
          totalResults: number;
          startIndex: number;
          itemsPerPage: number;
          Resources: { userName: string }[];
        };
      };
      const filter = (text: string) =>
        names(`filter=${encodeURIComponent(text)}&sortBy=userName`).then((page) =>
          page.Resources.map((user) => user.userName),
        );

      expect(await filter('userName eq "LIST-ANNA"')).toEqual(['list-anna']);
      expect(await filter('userName co "st-b"')).toEqual(['list-bert']);
      expect(await filter('userName sw "list-"')).toEqual([
        'list-anna',
        'list-bert',
        'list-cleo',
        'list-dora',
        'list-emil',
      ]);
      expect(await filter('userName sw "list-" and displayName co "o"')).toEqual([
        'list-cleo',
        'list-dora',
      ]);
      expect(await filter('userName sw "list-" and not (userName eq "list-anna")')).toHaveLength(4);
      expect(await filter('userName eq "list-anna" or userName eq "list-emil"')).toEqual([
        'list-anna',
        'list-emil',
      ]);
      expect(await filter('emails[value eq "list-dora@example.org"]')).toEqual(['list-dora']);
      expect(await filter('userName sw "list-" and externalId pr')).toEqual([]);
      // Injection attempts are values, nothing more.
      expect(await filter(`userName eq "x' OR '1'='1"`)).toEqual([]);

      const page = await names(
        `filter=${encodeURIComponent('userName sw "list-"')}&sortBy=userName&sortOrder=descending&startIndex=2&count=2`,
      );
      expect(page).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
      expect(page.Resources.map((user) => user.userName)).toEqual(['list-dora', 'list-cleo']);

      const countOnly = await names(`filter=${encodeURIComponent('userName sw "list-"')}&count=0`);
      expect(countOnly).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });

      const capped = await names('count=5000');
      expect(capped.itemsPerPage).toBeLessThanOrEqual(200);
    });

    it('replaces a user with PUT, honouring If-Match (412 when stale)', async () => {
      const user = await createUser('replaced', { displayName: 'Before' });
      const body = {
        schemas: [USER],
        userName: 'replaced',
        displayName: 'After',
        name: { givenName: 'Re' },
        emails: [{ value: 'replaced.new@example.org', primary: true }],
        active: true,
      };
      const stale = await call('PUT', `/Users/${user['id']}`, {
        body,
        headers: { 'if-match': 'W/"9"' },
      });
      expectScimError(stale, 412);

      const replaced = await call('PUT', `/Users/${user['id']}`, {
        body,
        headers: { 'if-match': 'W/"1"' },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.headers.get('etag')).toBe('W/"2"');
      expect(replaced.body).toMatchObject({
        displayName: 'After',
        name: { givenName: 'Re' },
        emails: [{ value: 'replaced.new@example.org' }],
        meta: { version: 'W/"2"' },
      });
      expect(replaced.body).not.toHaveProperty('externalId');

      // The same PUT again changes nothing: same version, no event.
      const before = (await events('rampart.identity.scim.user-updated')).length;
      const again = await call('PUT', `/Users/${user['id']}`, { body });
      expect(again.body['meta'].version).toBe('W/"2"');
      expect(await events('rampart.identity.scim.user-updated')).toHaveLength(before);
    });

    it('patches attributes the ways Azure AD and Okta do, and deactivation ends sign-in', async () => {
      const user = await createUser('patched', { password: PASSWORD });
      const id = user.id;
      const patch = (operations: unknown[], headers: Record<string, string> = {}) =>
        call('PATCH', `/Users/${id}`, {
          body: { schemas: [PATCH_OP], Operations: operations },
          headers,
        });

      // Azure AD: capitalised ops, paths with filters, booleans as strings.
      const azure = await patch([
        { op: 'Replace', path: 'name.givenName', value: 'Pat' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'pat@example.org' },
        { op: 'Add', path: 'externalId', value: 'aad-1' },
        {
          op: 'Add',
          path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
          value: 'ignored',
        },
      ]);
      expect(azure.status).toBe(200);
      expect(azure.body).toMatchObject({
        name: { givenName: 'Pat' },
        emails: [{ value: 'pat@example.org' }],
        externalId: 'aad-1',
        meta: { version: 'W/"2"' },
      });
      expect(await accounts.authenticate('patched', PASSWORD, CONTEXT)).toMatchObject({
        ok: true,
      });

      // Okta: deactivation as a replace without a path; the version must be the current one.
      expectScimError(
        await patch([{ op: 'replace', value: { active: false } }], { 'if-match': 'W/"1"' }),
        412,
      );
      const deactivated = await patch([{ op: 'replace', value: { active: 'False' } }], {
        'if-match': 'W/"2"',
      });
      expect(deactivated.body['active']).toBe(false);
      expect(await accounts.authenticate('patched', PASSWORD, CONTEXT)).toEqual({
        ok: false,
        reason: 'disabled',
      });
      const updated = await events('rampart.identity.scim.user-updated');
      expect(updated.at(-1)!.data).toEqual({
        actor: { subject: 'okta-provisioner', clientId: 'test-client' },
        userId: id,
        changed: ['active'],
        active: false,
      });

      // Reactivation and a new password; removing an attribute.
      const newPassword = 'reactivated zebra crossing';
      passwords.add(newPassword);
      const reactivated = await patch([
        { op: 'replace', path: 'active', value: true },
        { op: 'replace', path: 'password', value: newPassword },
        { op: 'remove', path: 'externalId' },
      ]);
      expect(reactivated.body['active']).toBe(true);
      expect(reactivated.body).not.toHaveProperty('externalId');
      expect(reactivated.body).not.toHaveProperty('password');
      expect(await accounts.authenticate('patched', newPassword, CONTEXT)).toMatchObject({
        ok: true,
      });
      expect(await accounts.authenticate('patched', PASSWORD, CONTEXT)).toMatchObject({
        ok: false,
        reason: 'bad-password',
      });
      expect((await events('rampart.identity.scim.user-updated')).at(-1)!.data['changed']).toEqual([
        'externalId',
        'active',
        'password',
      ]);
    });

    it("refuses a PATCH that takes another user's name, and does not revive a closing account", async () => {
      const first = await createUser('first-of-two');
      const second = await createUser('second-of-two');
      expectScimError(
        await call('PATCH', `/Users/${second.id}`, {
          body: {
            schemas: [PATCH_OP],
            Operations: [{ op: 'replace', path: 'userName', value: 'FIRST-of-two' }],
          },
        }),
        409,
        'uniqueness',
      );
      expect((await call('GET', `/Users/${second.id}`)).body['userName']).toBe('second-of-two');

      await accounts.requestDeletion(first.id);
      const revived = await call('PUT', `/Users/${first.id}`, {
        body: {
          userName: 'first-of-two',
          emails: [{ value: 'first-of-two@example.org' }],
          active: true,
        },
      });
      expect(revived.status).toBe(200);
      expect(revived.body['active']).toBe(false);
    });

    it('refuses bad PATCH requests with the SCIM error types', async () => {
      const user = await createUser('badpatch');
      const patch = (operations: unknown) =>
        call('PATCH', `/Users/${user['id']}`, {
          body: { schemas: [PATCH_OP], Operations: operations },
        });
      expectScimError(
        await patch([{ op: 'move', path: 'userName', value: 'x' }]),
        400,
        'invalidValue',
      );
      expectScimError(
        await patch([{ op: 'replace', path: 'name..x', value: 'x' }]),
        400,
        'invalidPath',
      );
      expectScimError(
        await patch([{ op: 'replace', path: 'emails[type eq "home"].value', value: 'a@b.org' }]),
        400,
        'noTarget',
      );
      expectScimError(await patch([{ op: 'remove' }]), 400, 'noTarget');
      expectScimError(await patch([{ op: 'remove', path: 'userName' }]), 400, 'invalidValue');
      expectScimError(await patch('nope'), 400, 'invalidValue');
      // Nothing was changed by any of them.
      expect((await call('GET', `/Users/${user['id']}`)).body['meta'].version).toBe('W/"1"');
    });

    it('deletes a user: sign-in ends, the id is gone, group memberships go with it', async () => {
      const user = await createUser('deleted', { password: PASSWORD });
      const id = user.id;
      const group = await call('POST', '/Groups', {
        body: { schemas: [GROUP], displayName: 'Deleted members', members: [{ value: id }] },
      });
      expect(group.body['meta'].version).toBe('W/"1"');

      expectScimError(
        await call('DELETE', `/Users/${id}`, { headers: { 'if-match': 'W/"5"' } }),
        412,
      );
      const deleted = await call('DELETE', `/Users/${id}`, { headers: { 'if-match': 'W/"1"' } });
      expect(deleted.status).toBe(204);
      expectScimError(await call('GET', `/Users/${id}`), 404);
      expectScimError(await call('DELETE', `/Users/${id}`), 404);
      expect(await accounts.authenticate('deleted', PASSWORD, CONTEXT)).toEqual({
        ok: false,
        reason: 'unknown-user',
      });
      const after = await call('GET', `/Groups/${group.body['id']}`);
      expect(after.body).toMatchObject({ members: [], meta: { version: 'W/"2"' } });
      expect((await events('rampart.identity.scim.user-deleted')).at(-1)!.data).toEqual({
        actor: { subject: 'okta-provisioner', clientId: 'test-client' },
        userId: id,
      });
    });

    it('ends every session, grant and token when a user is deactivated or deleted', async () => {
      const db = service.dataSource!;
      // A signed-in session with one grant and its refresh token, as the provider stores them.
      const signIn = async (accountId: string, tag: string) => {
        const grantId = `grant-${tag}`;
        await db.query(
          `INSERT INTO oidc_models (model, id, payload, uid, expires_at)
           VALUES ('Session', $1, $2, $3, now() + interval '1 hour')`,
          [
            `session-${tag}`,
            JSON.stringify({
              uid: `uid-${tag}`,
              accountId,
              loginTs: Math.floor(Date.now() / 1000),
              authorizations: { app: { grantId, sid: `sid-${tag}` } },
            }),
            `uid-${tag}`,
          ],
        );
        await db.query(
          `INSERT INTO oidc_models (model, id, payload, grant_id, expires_at)
           VALUES ('Grant', $1, $2, NULL, now() + interval '1 hour'),
                  ('RefreshToken', $3, $4, $1, now() + interval '1 hour')`,
          [
            grantId,
            JSON.stringify({ accountId, clientId: 'app' }),
            `refresh-${tag}`,
            JSON.stringify({ accountId, clientId: 'app', grantId }),
          ],
        );
      };
      const left = async (tag: string) =>
        (
          await db.query<{ id: string }[]>(`SELECT id FROM oidc_models WHERE id LIKE $1`, [
            `%-${tag}`,
          ])
        ).map((row) => row.id);

      const disabled = await createUser('session-holder', { password: PASSWORD });
      await signIn(disabled.id, 'disabled');
      const patched = await call('PATCH', `/Users/${disabled.id}`, {
        body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] },
      });
      expect(patched.status).toBe(200);
      expect(await left('disabled')).toEqual([]);

      const deleted = await createUser('session-deleted', { password: PASSWORD });
      await signIn(deleted.id, 'deleted');
      expect((await call('DELETE', `/Users/${deleted.id}`)).status).toBe(204);
      expect(await left('deleted')).toEqual([]);

      const ended = (await events('rampart.identity.session.revoked')).map((event) => event.data);
      expect(ended).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            accountId: disabled.id,
            sessionUid: 'uid-disabled',
            by: 'admin',
            reason: 'account-disabled',
            grantsRevoked: 1,
          }),
          expect.objectContaining({
            accountId: deleted.id,
            sessionUid: 'uid-deleted',
            reason: 'account-deleted',
          }),
        ]),
      );
    });

    it('refuses bad input with the right status and scimType, never a 500', async () => {
      await createUser('taken');
      expectScimError(
        await call('POST', '/Users', {
          body: { userName: 'TAKEN', emails: [{ value: 'other@example.org' }] },
        }),
        409,
        'uniqueness',
      );
      expectScimError(
        await call('POST', '/Users', {
          body: { userName: 'other', emails: [{ value: 'taken@example.org' }] },
        }),
        409,
        'uniqueness',
      );
      // (Refused, so never stored: common words like these are not scanned for below.)
      for (const weak of ['password', 'short', 'weakpass-user']) {
        const answer = await call('POST', '/Users', {
          body: { userName: 'weakpass-user', emails: [{ value: 'w@example.org' }], password: weak },
        });
        expectScimError(answer, 400, 'invalidValue');
        expect(answer.body['detail']).toMatch(/password policy/);
      }
      expectScimError(
        await call('POST', '/Users', { body: { userName: 'no-email' } }),
        400,
        'invalidValue',
      );
      expectScimError(
        await call('POST', '/Users', {
          body: { userName: 'bad name!', emails: [{ value: 'b@example.org' }] },
        }),
        400,
        'invalidValue',
      );
      expectScimError(
        await call('POST', '/Users', {
          body: { userName: 'nul', displayName: 'a\u0000b', emails: [{ value: 'n@example.org' }] },
        }),
        400,
        'invalidValue',
      );
      expectScimError(
        await call('POST', '/Users', { raw: '{"userName": "broken",' }),
        400,
        'invalidSyntax',
      );
      expectScimError(
        await call('POST', '/Users', { raw: '{"__proto__": {"x": 1}, "userName": "proto"}' }),
        400,
        'invalidSyntax',
      );
      expectScimError(await call('POST', '/Users', { raw: '' }), 400, 'invalidSyntax');
      expectScimError(
        await call('POST', '/Users', {
          body: { userName: 'huge', displayName: 'x'.repeat(1024 * 1024 + 1) },
        }),
        413,
      );
      expectScimError(
        await call('POST', '/Users', {
          raw: '<User><userName>xml</userName></User>',
          headers: { 'content-type': 'application/xml' },
        }),
        415,
      );
      expectScimError(await call('GET', '/Users?filter=userName%20eq'), 400, 'invalidFilter');
      expectScimError(
        await call('GET', `/Users?filter=${encodeURIComponent('password eq "x"')}`),
        400,
        'invalidFilter',
      );
      expectScimError(await call('GET', '/Users?sortBy=password'), 400, 'invalidValue');
      expectScimError(await call('GET', '/Users?startIndex=abc'), 400, 'invalidValue');
      expectScimError(await call('GET', '/Users/00000000-0000-4000-8000-000000000000'), 404);
      expectScimError(await call('GET', '/Users/not-a-uuid'), 404);
      expectScimError(await call('GET', '/Nothing'), 404);
      // With a charset parameter, as Okta sends it.
      const charset = await call('POST', '/Users', {
        body: { userName: 'charset-client', emails: [{ value: 'charset@example.org' }] },
        headers: { 'content-type': 'application/scim+json; charset=utf-8' },
      });
      expect(charset.status).toBe(201);
      // application/json works as well as application/scim+json.
      const json = await call('POST', '/Users', {
        body: { userName: 'json-client', emails: [{ value: 'json@example.org' }] },
        headers: { 'content-type': 'application/json' },
      });
      expect(json.status).toBe(201);

      const refused = (await events('rampart.identity.scim.request-refused')).map(
        (event) => event.data,
      );
      expect(refused).toContainEqual({
        actor: { subject: 'okta-provisioner', clientId: 'test-client' },
        method: 'POST',
        path: '/scim/v2/Users',
        status: 409,
        scimType: 'uniqueness',
      });
      expect(refused).toContainEqual(
        expect.objectContaining({ method: 'POST', status: 413, path: '/scim/v2/Users' }),
      );
      expect(refused).toContainEqual(
        expect.objectContaining({ method: 'GET', status: 400, scimType: 'invalidFilter' }),
      );
    });
  });

  describe('Groups', () => {
    it('creates, reads, lists, patches members (Okta and Azure AD forms), replaces and deletes', async () => {
      const [ann, ben, cat] = await Promise.all(
        ['grp-ann', 'grp-ben', 'grp-cat'].map((name) => createUser(name)),
      );
      const ids = [ann!['id'], ben!['id'], cat!['id']] as string[];

      const created = await call('POST', '/Groups', {
        body: {
          schemas: [GROUP],
          displayName: 'Engineering',
          externalId: 'okta-g1',
          members: [{ value: ids[0], display: 'whatever' }, { value: ids[1] }],
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect(created.headers.get('location')).toBe(`${ISSUER}/scim/v2/Groups/${id}`);
      expect(created.body).toMatchObject({
        schemas: [GROUP],
        displayName: 'Engineering',
        externalId: 'okta-g1',
        members: [
          { value: ids[0], display: 'grp-ann', type: 'User' },
          { value: ids[1], display: 'grp-ben', type: 'User' },
        ],
        meta: { resourceType: 'Group', version: 'W/"1"' },
      });
      expect((await call('GET', `/Users/${ids[0]}`)).body['groups']).toEqual([
        { value: id, display: 'Engineering', type: 'direct' },
      ]);
      expectScimError(
        await call('POST', '/Groups', { body: { displayName: 'ENGINEERING' } }),
        409,
        'uniqueness',
      );
      expectScimError(
        await call('POST', '/Groups', {
          body: {
            displayName: 'Ghosts',
            members: [{ value: '00000000-0000-4000-8000-000000000001' }],
          },
        }),
        400,
        'invalidValue',
      );

      const listed = await call(
        'GET',
        `/Groups?filter=${encodeURIComponent(`displayName eq "engineering" and members.value eq "${ids[1]}"`)}`,
      );
      expect(listed.body['totalResults']).toBe(1);
      const slim = await call('GET', `/Groups/${id}?excludedAttributes=members`);
      expect(slim.body).not.toHaveProperty('members');

      const patch = (operations: unknown[], headers: Record<string, string> = {}) =>
        call('PATCH', `/Groups/${id}`, {
          body: { schemas: [PATCH_OP], Operations: operations },
          headers,
        });
      // Okta: add a member, remove one by a value filter.
      const okta = await patch(
        [
          { op: 'add', path: 'members', value: [{ value: ids[2], display: 'grp-cat' }] },
          { op: 'remove', path: `members[value eq "${ids[0]}"]` },
        ],
        { 'if-match': 'W/"1"' },
      );
      expect(okta.status).toBe(200);
      expect(okta.body.members.map((m) => m.value).sort()).toEqual([ids[1], ids[2]].sort());
      expect((await events('rampart.identity.scim.group-updated')).at(-1)!.data).toEqual({
        actor: { subject: 'okta-provisioner', clientId: 'test-client' },
        groupId: id,
        changed: ['members'],
        addedMembers: [ids[2]],
        removedMembers: [ids[0]],
      });
      // Azure AD: remove with a value list, rename without a path; adding a present member is a no-op.
      const azure = await patch([
        { op: 'Remove', path: 'members', value: [{ value: ids[1]!.toUpperCase() }] },
        { op: 'Add', path: 'members', value: [{ value: ids[2] }] },
        { op: 'Replace', value: { displayName: 'Engineering & Ops' } },
      ]);
      expect(azure.body).toMatchObject({
        displayName: 'Engineering & Ops',
        members: [{ value: ids[2] }],
        meta: { version: 'W/"3"' },
      });
      expectScimError(
        await patch([{ op: 'add', path: 'members', value: [{ value: 'nope' }] }]),
        400,
        'invalidValue',
      );
      expectScimError(
        await patch([{ op: 'add', path: 'members', value: [{ value: id, type: 'Group' }] }]),
        400,
        'invalidValue',
      );

      const put = await call('PUT', `/Groups/${id}`, {
        body: { schemas: [GROUP], displayName: 'Engineering', members: [{ value: ids[0] }] },
        headers: { 'if-match': 'W/"3"' },
      });
      expect(put.body).toMatchObject({ displayName: 'Engineering', members: [{ value: ids[0] }] });
      expect(put.body).not.toHaveProperty('externalId');
      expect(put.headers.get('etag')).toBe('W/"4"');

      expectScimError(
        await call('DELETE', `/Groups/${id}`, { headers: { 'if-match': 'W/"3"' } }),
        412,
      );
      expect((await call('DELETE', `/Groups/${id}`)).status).toBe(204);
      expectScimError(await call('GET', `/Groups/${id}`), 404);
      expect((await call('GET', `/Users/${ids[0]}`)).body['groups']).toEqual([]);
      expect((await events('rampart.identity.scim.group-deleted')).at(-1)!.data).toEqual({
        actor: { subject: 'okta-provisioner', clientId: 'test-client' },
        groupId: id,
      });
      const groupCreated = await events('rampart.identity.scim.group-created');
      expect(groupCreated.find((event) => event.subject === id)!.data).toEqual({
        actor: { subject: 'okta-provisioner', clientId: 'test-client' },
        groupId: id,
        displayName: 'Engineering',
        addedMembers: [ids[0], ids[1]],
      });
    });
  });

  it('keeps every change when writers race on one group (compare-and-set, recomputed)', async () => {
    const users = await Promise.all(
      Array.from({ length: 6 }, (_, index) => createUser(`race-${index}`)),
    );
    const created = await call('POST', '/Groups', { body: { displayName: 'Race' } });
    const answers = await Promise.all(
      users.map((racer) =>
        call('PATCH', `/Groups/${created.body.id}`, {
          body: {
            schemas: [PATCH_OP],
            Operations: [{ op: 'add', path: 'members', value: [{ value: racer.id }] }],
          },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(users.map(() => 200));
    const final = await call('GET', `/Groups/${created.body.id}`);
    expect(final.body.members.map((m) => m.value).sort()).toEqual(users.map((u) => u.id).sort());
    expect(final.body.meta.version).toBe('W/"7"');
  });

  it('documents the SCIM routes in the OpenAPI document', async () => {
    const document = (await (await fetch(`${service.url}/oidc/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security: unknown[] }>>;
    };
    for (const path of ['/scim/v2/Users', '/scim/v2/Users/{id}', '/scim/v2/Groups/{id}']) {
      expect(document.paths[path]).toBeDefined();
    }
    expect(Object.keys(document.paths['/scim/v2/Users/{id}']!).sort()).toEqual([
      'delete',
      'get',
      'patch',
      'put',
    ]);
    expect(document.paths['/scim/v2/Schemas']!['get']!.security).toEqual([{ accessToken: [] }]);
  });

  it('never returns or records a password or a password hash', async () => {
    const hashes = await service.dataSource!.query<{ password_hash: string }[]>(
      `SELECT password_hash FROM accounts`,
    );
    const outbox = await service.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox`,
    );
    const secrets = [...passwords, ...hashes.map((row) => row.password_hash)];
    expect(responses.length).toBeGreaterThan(50);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    for (const text of [...responses, ...outbox.map((row) => row.payload)]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/"password"\s*:/);
    }
  });
});
