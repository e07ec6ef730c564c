import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { fetch as undiciFetch } from 'undici';
import {
  LOGGER,
  RampartError,
  SERVICE_CONFIG,
  startService,
  type Logger,
  type PrivateSigningJwk,
  type RunningService,
} from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import { AccountsService } from '../accounts/accounts.service.js';
import type { IdentityConfig } from '../config/identity.config.js';
import { identityService } from '../identity.service.js';
import { ACCOUNT_CENTRE_CLIENT_ID, providerConfiguration } from '../oidc/provider-configuration.js';
import { identityTestEnv } from '../testing/identity-test-env.js';
import { sessionActivityMiddleware } from './session-activity.js';
import { selfActor, SessionsService } from './sessions.service.js';

const IDLE_SECONDS = 600;
const MAX_SECONDS = 3600;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_IOS =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

/** A relying party that asked for back-channel logout. */
const RELYING_PARTY = { id: 'notes-app', secret: randomBytes(32).toString('base64url') };

interface Browser {
  userAgent: string;
  ip: string;
  cookies: Map<string, string>;
}

/**
 * Sessions on real PostgreSQL under a real oidc-provider built from identity's own configuration
 * (the service's OidcProviderHost needs key-management, so the provider is served here by
 * node:http on the service's database, with the same session middleware installed). People sign in
 * through the provider's real authorization and interaction endpoints; the login page is replaced
 * by `interactionFinished`, which is what the pages call once a password checked out.
 */
describe('sessions (identity on real PostgreSQL, real oidc-provider over HTTP)', () => {
  let database: TestDatabase;
  let folder: string;
  let service: RunningService;
  let sessions: SessionsService;
  let accounts: AccountsService;
  let provider: Provider;
  let server: Server;
  let base: string;
  let issuer: URL;
  /** Who the stand-in login page signs in. */
  let signingIn = '';
  let publicKey: KeyObject;
  /** The relying party's back-channel logout endpoint and what it received. */
  let receiver: Server;
  const logoutTokens: string[] = [];

  const query = <T>(sql: string, parameters: unknown[] = []) =>
    service.dataSource!.query<T[]>(sql, parameters);

  async function events(type: string) {
    const rows = await query<{ payload: string }>(
      `SELECT payload FROM outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
      [type],
    );
    return rows.map(
      (row) => JSON.parse(row.payload) as { subject: string; data: Record<string, unknown> },
    );
  }

  async function newAccount(username: string) {
    const account = await accounts.register({
      username,
      email: `${username}@example.org`,
      password: 'correct horse battery staple',
    });
    return account.id;
  }

  /** One HTTP request as a browser would make it: its cookies, agent and (gateway-set) address. */
  async function visit(browser: Browser, url: string) {
    const target = new URL(url, base);
    const response = await fetch(`${base}${target.pathname}${target.search}`, {
      redirect: 'manual',
      headers: {
        'user-agent': browser.userAgent,
        'x-forwarded-for': browser.ip,
        cookie: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair!.split('=');
      if (/expires=Thu, 01 Jan 1970/i.test(cookie)) browser.cookies.delete(name!);
      else browser.cookies.set(name!, value.join('='));
    }
    const body = await response.text();
    if (response.status >= 500) throw new Error(`${target.pathname}: ${body.slice(0, 500)}`);
    return response;
  }

  /** The account centre's authorization request; follows redirects back to its callback. */
  async function authorize(browser: Browser, prompt?: string) {
    const verifier = randomBytes(32).toString('base64url');
    const parameters = new URLSearchParams({
      client_id: ACCOUNT_CENTRE_CLIENT_ID,
      response_type: 'none',
      scope: 'openid',
      redirect_uri: `${issuer.origin}/account/callback`,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(prompt ? { prompt } : {}),
    });
    let response = await visit(browser, `/oidc/auth?${parameters.toString()}`);
    for (let hops = 0; hops < 5 && response.status >= 300 && response.status < 400; hops++) {
      const location = new URL(response.headers.get('location')!, base);
      if (location.pathname === '/account/callback') return location;
      response = await visit(browser, location.href);
    }
    throw new Error(`authorization did not come back to the client (${response.status})`);
  }

  async function signIn(accountId: string, userAgent: string, ip: string): Promise<Browser> {
    const browser: Browser = { userAgent, ip, cookies: new Map() };
    signingIn = accountId;
    const callback = await authorize(browser);
    expect(callback.searchParams.get('error')).toBeNull();
    return browser;
  }

  const sessionRow = async (uid: string) =>
    (
      await query<{ id: string; expires_at: Date; payload: Record<string, unknown> }>(
        `SELECT id, expires_at, payload FROM oidc_models WHERE model = 'Session' AND uid = $1`,
        [uid],
      )
    )[0];

  async function failure(promise: Promise<unknown>) {
    try {
      await promise;
    } catch (error) {
      if (error instanceof RampartError) return { code: error.code, detail: error.detail };
      throw error;
    }
    throw new Error('expected a RampartError');
  }

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    folder = await mkdtemp(join(tmpdir(), 'rampart-identity-sessions-'));
    service = await startService(identityService, {
      env: await identityTestEnv(database, {
        IDENTITY_MAILBOX_DIR: join(folder, 'mailbox'),
        // HTTPS, as in production: oidc-provider sets its Secure cookies on https requests only.
        RAMPART_ISSUER: 'https://id.example.test',
        IDENTITY_SESSION_IDLE_SECONDS: String(IDLE_SECONDS),
        IDENTITY_SESSION_MAX_SECONDS: String(MAX_SECONDS),
      }),
    });
    sessions = service.app.get(SessionsService);
    accounts = service.app.get(AccountsService);
    const config = service.app.get<IdentityConfig>(SERVICE_CONFIG);
    const logger = service.app.get<Logger>(LOGGER);
    issuer = new URL(config.RAMPART_ISSUER);

    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        if (token) logoutTokens.push(token);
        response.statusCode = 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));

    const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    publicKey = keyPair.publicKey;
    const signingKey = {
      ...keyPair.privateKey.export({ format: 'jwk' }),
      kid: 'sessions-test',
      alg: 'ES256',
    } as PrivateSigningJwk;
    const configuration = providerConfiguration({
      issuer: config.RAMPART_ISSUER,
      config,
      dataSource: service.dataSource!,
      signingKeys: [signingKey],
      cookieKeys: [randomBytes(32).toString('base64url')],
    });
    provider = new Provider(config.RAMPART_ISSUER, {
      ...configuration,
      clients: [
        ...(configuration.clients ?? []),
        {
          client_id: RELYING_PARTY.id,
          client_secret: RELYING_PARTY.secret,
          redirect_uris: ['https://notes.example/callback'],
          scope: 'openid offline_access',
          backchannel_logout_uri: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/logout`,
          backchannel_logout_session_required: true,
        },
      ],
      // Test only: the receiver listens on loopback, which the provider's SSRF protection (the
      // dispatcher it passes) refuses; everything else is the configured fetch.
      fetch: (url, init) =>
        undiciFetch(url as string, {
          ...(init as Parameters<typeof undiciFetch>[1]),
          dispatcher: undefined,
        }),
    });
    // As OidcProviderHost does: behind the gateway, Secure cookies, then the sessions middleware.
    provider.proxy = true;
    provider.maxIpsCount = 1;
    provider.use(async (ctx, next) => {
      ctx.cookies.secure = true;
      await next();
    });
    provider.use(sessionActivityMiddleware(sessions, logger));
    const handle = provider.callback();
    server = createServer((request, response) => {
      request.headers.host = issuer.host;
      request.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
      if (request.url?.startsWith('/interaction/')) {
        // The login page, once the password checked out.
        provider
          .interactionFinished(
            request,
            response,
            { login: { accountId: signingIn } },
            { mergeWithLastSubmission: false },
          )
          .catch((error: unknown) => {
            response.statusCode = 500;
            response.end(String(error));
          });
        return;
      }
      void handle(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await new Promise((resolve) => receiver?.close(resolve));
    await service?.stop();
    await database?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('records each sign-in with its device and address, and lists the account’s sessions', async () => {
    const alice = await newAccount('alice');
    const bob = await newAccount('bob');
    await signIn(alice, FIREFOX, '203.0.113.10');
    await signIn(alice, SAFARI_IOS, '198.51.100.20');
    await signIn(bob, FIREFOX, '203.0.113.30');

    const listed = await sessions.listForAccount(alice);
    expect(listed).toHaveLength(2);
    expect(listed.map((session) => [session.device, session.ip]).sort()).toEqual([
      ['Firefox on Linux', '203.0.113.10'],
      ['Safari on iOS', '198.51.100.20'],
    ]);
    // The uid is the provider session's public uid, never its cookie value (the row's id).
    for (const session of listed) {
      const row = await sessionRow(session.id);
      expect(row).toBeDefined();
      expect(row!.payload['accountId']).toBe(alice);
      expect(session.id).not.toBe(row!.id);
      expect(session.current).toBe(false);
      expect(Math.abs(session.createdAt.getTime() - Date.now())).toBeLessThan(30_000);
    }
    const current = await sessions.listForAccount(alice, listed[1]!.id);
    expect(current.find((session) => session.id === listed[1]!.id)?.current).toBe(true);
    expect(current.filter((session) => session.current)).toHaveLength(1);

    expect(await sessions.listForAccount(bob)).toHaveLength(1);
    expect(await sessions.listForAccount('not-a-uuid')).toEqual([]);
  });

  it('moves last-seen and the idle expiry with activity, at most once a minute for the record', async () => {
    const carol = await newAccount('carol');
    const browser = await signIn(carol, FIREFOX, '203.0.113.40');
    const [session] = await sessions.listForAccount(carol);

    // Ten minutes of silence, as far as the database can tell.
    await query(`UPDATE sessions SET last_seen_at = now() - interval '10 minutes' WHERE uid = $1`, [
      session!.id,
    ]);
    await query(
      `UPDATE oidc_models SET expires_at = now() + interval '30 seconds'
        WHERE model = 'Session' AND uid = $1`,
      [session!.id],
    );
    // Used again, from another address: no login prompt, the session carries on.
    browser.ip = '203.0.113.41';
    const callback = await authorize(browser, 'none');
    expect(callback.searchParams.get('error')).toBeNull();
    const [after] = await sessions.listForAccount(carol);
    expect(after!.id).toBe(session!.id);
    expect(after!.ip).toBe('203.0.113.41');
    expect(Date.now() - after!.lastSeenAt.getTime()).toBeLessThan(10_000);
    const idleLeft = ((await sessionRow(session!.id))!.expires_at.getTime() - Date.now()) / 1000;
    expect(idleLeft).toBeGreaterThan(IDLE_SECONDS - 10);
    expect(idleLeft).toBeLessThanOrEqual(IDLE_SECONDS + 1);

    // Within the minute, the record is not written again.
    await query(`UPDATE sessions SET last_seen_at = now() - interval '30 seconds' WHERE uid = $1`, [
      session!.id,
    ]);
    browser.ip = '203.0.113.42';
    await authorize(browser, 'none');
    const [unchanged] = await sessions.listForAccount(carol);
    expect(unchanged!.ip).toBe('203.0.113.41');
  });

  it('never extends a session past sign-in + the absolute timeout, and ends it once past', async () => {
    const dave = await newAccount('dave');
    const browser = await signIn(dave, FIREFOX, '203.0.113.50');
    const [session] = await sessions.listForAccount(dave);
    const setLoginTs = (loginTs: number) =>
      query(
        `UPDATE oidc_models SET payload = jsonb_set(payload::jsonb, '{loginTs}', to_jsonb($2::bigint))::json
          WHERE model = 'Session' AND uid = $1`,
        [session!.id, loginTs],
      );
    const now = () => Math.floor(Date.now() / 1000);

    // Signed in 59 minutes and 30 seconds ago: activity buys 30 seconds, not the idle 10 minutes.
    await setLoginTs(now() - (MAX_SECONDS - 30));
    expect((await authorize(browser, 'none')).searchParams.get('error')).toBeNull();
    const left = ((await sessionRow(session!.id))!.expires_at.getTime() - Date.now()) / 1000;
    expect(left).toBeGreaterThan(20);
    expect(left).toBeLessThanOrEqual(31);
    expect(await sessions.listForAccount(dave)).toHaveLength(1);

    // Past the maximum: not listed, and the next use ends it for good.
    await setLoginTs(now() - MAX_SECONDS - 1);
    expect(await sessions.listForAccount(dave)).toEqual([]);
    await authorize(browser, 'none');
    expect(await sessionRow(session!.id)).toBeUndefined();
    const again = await authorize(browser, 'none');
    expect(again.searchParams.get('error')).toBe('login_required');
  });

  it('does not find a session whose row has expired', async () => {
    const erin = await newAccount('erin');
    const browser = await signIn(erin, FIREFOX, '203.0.113.60');
    const [session] = await sessions.listForAccount(erin);
    await query(
      `UPDATE oidc_models SET expires_at = now() - interval '1 second'
        WHERE model = 'Session' AND uid = $1`,
      [session!.id],
    );
    expect(await sessions.listForAccount(erin)).toEqual([]);
    expect((await authorize(browser, 'none')).searchParams.get('error')).toBe('login_required');
  });

  it('revokes one session with its grants and tokens, and writes the events', async () => {
    const frank = await newAccount('frank');
    const laptop = await signIn(frank, FIREFOX, '203.0.113.70');
    const phone = await signIn(frank, SAFARI_IOS, '203.0.113.71');
    const listed = await sessions.listForAccount(frank);
    const phoneSession = listed.find((session) => session.device === 'Safari on iOS')!;
    const payload = (await sessionRow(phoneSession.id))!.payload as {
      authorizations: Record<string, { grantId: string }>;
    };
    const grantId = payload.authorizations[ACCOUNT_CENTRE_CLIENT_ID]!.grantId;
    expect(
      await query(`SELECT 1 FROM oidc_models WHERE model = 'Grant' AND id = $1`, [grantId]),
    ).toHaveLength(1);
    // A refresh token of that grant, stored as the provider stores it.
    const client = await provider.Client.find(ACCOUNT_CENTRE_CLIENT_ID);
    const refreshToken = new provider.RefreshToken({
      client: client!,
      accountId: frank,
      grantId,
      scope: 'openid',
    } as ConstructorParameters<typeof provider.RefreshToken>[0]);
    const token = await refreshToken.save();
    expect(await provider.RefreshToken.find(token)).toBeDefined();

    await sessions.revoke(frank, phoneSession.id, selfActor(frank));

    expect(await sessionRow(phoneSession.id)).toBeUndefined();
    expect(
      await query(`SELECT 1 FROM oidc_models WHERE model = 'Grant' AND id = $1`, [grantId]),
    ).toEqual([]);
    expect(await query(`SELECT 1 FROM oidc_models WHERE grant_id = $1`, [grantId])).toEqual([]);
    expect(await provider.RefreshToken.find(token)).toBeUndefined();
    // The phone is signed out; the laptop is not.
    expect((await authorize(phone, 'none')).searchParams.get('error')).toBe('login_required');
    expect((await authorize(laptop, 'none')).searchParams.get('error')).toBeNull();
    expect((await sessions.listForAccount(frank)).map((session) => session.device)).toEqual([
      'Firefox on Linux',
    ]);

    expect(
      (await events('rampart.identity.session.revoked')).filter((event) => event.subject === frank),
    ).toEqual([
      expect.objectContaining({
        data: {
          accountId: frank,
          sessionUid: phoneSession.id,
          by: 'self',
          actor: `user:${frank}`,
          reason: 'revoked',
          grantsRevoked: 1,
        },
      }),
    ]);
    expect(
      (await events('rampart.identity.oidc-grant.revoked')).filter(
        (event) => event.subject === grantId,
      ),
    ).toEqual([
      expect.objectContaining({
        data: {
          grantId,
          clientId: ACCOUNT_CENTRE_CLIENT_ID,
          accountId: frank,
          reason: 'session-revoked',
        },
      }),
    ]);

    // Revoking again, someone else's session, or nonsense: 404, nothing changes.
    const laptopSession = (await sessions.listForAccount(frank))[0]!;
    const bystander = await newAccount('grace');
    for (const attempt of [
      sessions.revoke(frank, phoneSession.id, selfActor(frank)),
      sessions.revoke(bystander, laptopSession.id, selfActor(bystander)),
      sessions.revoke(frank, "x' OR '1'='1", selfActor(frank)),
      sessions.revoke('not-a-uuid', laptopSession.id, selfActor(frank)),
    ]) {
      expect(await failure(attempt)).toEqual({ code: 'not-found', detail: 'No such session.' });
    }
    expect(await sessionRow(laptopSession.id)).toBeDefined();
  });

  it('revokes all sessions but the current one, then all of them', async () => {
    const heidi = await newAccount('heidi');
    const browsers = [
      await signIn(heidi, FIREFOX, '203.0.113.80'),
      await signIn(heidi, SAFARI_IOS, '203.0.113.81'),
      await signIn(heidi, FIREFOX, '203.0.113.82'),
    ];
    const listed = await sessions.listForAccount(heidi);
    expect(listed).toHaveLength(3);
    const keep = listed.find((session) => session.ip === '203.0.113.82')!;

    expect(await sessions.revokeAll(heidi, selfActor(heidi), keep.id)).toBe(2);
    expect((await sessions.listForAccount(heidi)).map((session) => session.id)).toEqual([keep.id]);
    expect((await authorize(browsers[0]!, 'none')).searchParams.get('error')).toBe(
      'login_required',
    );
    expect((await authorize(browsers[2]!, 'none')).searchParams.get('error')).toBeNull();

    const admin = { by: 'admin' as const, actor: 'user:provisioning-client' };
    expect(await sessions.revokeAll(heidi, admin)).toBe(1);
    expect(await sessions.listForAccount(heidi)).toEqual([]);
    expect(await sessions.revokeAll(heidi, admin)).toBe(0);
    const revoked = (await events('rampart.identity.session.revoked')).filter(
      (event) => event.subject === heidi,
    );
    expect(revoked.map((event) => [event.data['by'], event.data['actor']])).toEqual([
      ['self', `user:${heidi}`],
      ['self', `user:${heidi}`],
      ['admin', 'user:provisioning-client'],
    ]);
  });

  it('ends a revoked session again when a request in flight saves it after the revocation', async () => {
    const ivan = await newAccount('ivan');
    const browser = await signIn(ivan, FIREFOX, '203.0.113.90');
    const [session] = await sessions.listForAccount(ivan);
    const saved = (await sessionRow(session!.id))!;
    await sessions.revoke(ivan, session!.id, selfActor(ivan));
    // The in-flight request's save, as the provider would write it (same id, same uid).
    await query(
      `INSERT INTO oidc_models (model, id, payload, uid, expires_at)
       VALUES ('Session', $1, $2, $3, now() + interval '10 minutes')`,
      [saved.id, JSON.stringify(saved.payload), session!.id],
    );
    expect(await sessions.listForAccount(ivan)).toEqual([]);
    // Its next use finds the tombstone and ends it.
    await authorize(browser, 'none');
    expect(await sessionRow(session!.id)).toBeUndefined();
    expect((await authorize(browser, 'none')).searchParams.get('error')).toBe('login_required');
  });

  it('ends every session when the account holder asks for deletion, in the same transaction', async () => {
    const judy = await newAccount('judy');
    const browser = await signIn(judy, FIREFOX, '203.0.113.100');
    await signIn(judy, SAFARI_IOS, '203.0.113.101');
    expect(await sessions.listForAccount(judy)).toHaveLength(2);

    await accounts.requestDeletion(judy);

    expect(await sessions.listForAccount(judy)).toEqual([]);
    expect(
      await query(
        `SELECT 1 FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1`,
        [judy],
      ),
    ).toEqual([]);
    expect((await authorize(browser, 'none')).searchParams.get('error')).toBe('login_required');
    const revoked = (await events('rampart.identity.session.revoked')).filter(
      (event) => event.subject === judy,
    );
    expect(revoked.map((event) => event.data['reason'])).toEqual([
      'account-deletion-requested',
      'account-deletion-requested',
    ]);
    const grantReasons = (await events('rampart.identity.oidc-grant.revoked'))
      .filter((event) => event.data['accountId'] === judy)
      .map((event) => event.data['reason']);
    expect(grantReasons).toEqual(['account-disabled', 'account-disabled']);
  });

  it('purges the records of ended sessions, keeping live ones and fresh tombstones', async () => {
    const kim = await newAccount('kim');
    await signIn(kim, FIREFOX, '203.0.113.110');
    await signIn(kim, SAFARI_IOS, '203.0.113.111');
    const [first, second] = await sessions.listForAccount(kim);
    await sessions.revoke(kim, first!.id, selfActor(kim));
    const records = () =>
      query<{ uid: string }>(`SELECT uid FROM sessions WHERE account_id = $1 ORDER BY uid`, [kim]);
    expect(await records()).toHaveLength(2);

    await sessions.purgeEndedRecords(1000);
    expect(await records()).toHaveLength(2); // the tombstone is kept for a while
    await query(`UPDATE sessions SET revoked_at = now() - interval '11 minutes' WHERE uid = $1`, [
      first!.id,
    ]);
    await query(`UPDATE sessions SET last_seen_at = now() - interval '11 minutes' WHERE uid = $1`, [
      second!.id,
    ]);
    await sessions.purgeEndedRecords(1000);
    // The live session's record stays however old its last activity; the ended one goes.
    expect((await records()).map((row) => row.uid)).toEqual([second!.id]);
  });

  it('sends back-channel logout, signed by the provider, to the clients of ended sessions that asked', async () => {
    const leo = await newAccount('leo');
    await signIn(leo, FIREFOX, '203.0.113.120');
    const [session] = await sessions.listForAccount(leo);
    // The session also signed in to the relying party (as an authorization request would record).
    const grant = new provider.Grant({ clientId: RELYING_PARTY.id, accountId: leo });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const stored = await provider.Session.findByUid(session!.id);
    stored!.authorizations = {
      ...stored!.authorizations,
      [RELYING_PARTY.id]: { grantId, sid: 'sid-of-notes' },
    };
    await stored!.save(60);

    const ended = await service.dataSource!.transaction((transaction) =>
      sessions.revokeAllWithin(transaction, leo, selfActor(leo), 'revoked'),
    );
    expect(ended).toEqual([
      {
        uid: session!.id,
        accountId: leo,
        clients: expect.arrayContaining([
          { clientId: RELYING_PARTY.id, sid: 'sid-of-notes' },
          { clientId: ACCOUNT_CENTRE_CLIENT_ID, sid: expect.any(String) },
        ]),
      },
    ]);
    expect(logoutTokens).toEqual([]);
    await sessions.notifyClients(ended, provider);

    // One logout token, for the relying party only (the account centre asked for none).
    expect(logoutTokens).toHaveLength(1);
    const [header, payload, signature] = logoutTokens[0]!.split('.');
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature!, 'base64url'),
      ),
    ).toBe(true);
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({
      alg: 'ES256',
      typ: 'logout+jwt',
    });
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      iss: issuer.origin,
      aud: RELYING_PARTY.id,
      sub: leo,
      sid: 'sid-of-notes',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    });
    expect(claims).not.toHaveProperty('nonce');
  });
});
