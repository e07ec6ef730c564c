import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountsService, OidcProviderHost } from '@rampart/identity';
import type { RunningService } from '@rampart/platform';
import { freePort } from '@rampart/testing';
import { startAllInOne, type AllInOne } from './all-in-one.js';
import { TEST_RATE_LIMITS } from './testing/test-rate-limits.js';

interface Bootstrap {
  issuer: string;
  adminClient: { client_id: string; client_secret: string };
  initialAccessToken: string;
}

/**
 * The session administration API through the gateway, with the bootstrap admin client's token:
 * list a person's sessions, revoke one (its grant and refresh token stop working, the client is
 * asked for back-channel logout but sits on loopback, which the provider refuses to call), revoke
 * all. Sessions are created through the running provider's
 * own models, as a completed sign-in leaves them (the sign-in pages are not part of this test).
 */
describe('session administration (all-in-one, through the gateway)', () => {
  let platform: AllInOne;
  let identity: RunningService;
  let gatewayPort: number;
  let bootstrap: Bootstrap;
  let adminToken: string;
  let receiver: Server;
  let logoutTokens: string[];
  let client: { client_id: string; client_secret: string; backchannel_logout_uri: string };

  const gateway = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${gatewayPort}${path}`, init);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const sessionsPath = (accountId: string) => `/account/v1/admin/accounts/${accountId}/sessions`;

  async function clientCredentials(form: Record<string, string>): Promise<string> {
    const response = await gateway('/oidc/token', {
      method: 'POST',
      headers: {
        authorization: basic(bootstrap.adminClient.client_id, bootstrap.adminClient.client_secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  async function introspect(token: string): Promise<{ active: boolean }> {
    const response = await gateway('/oidc/token/introspection', {
      method: 'POST',
      headers: {
        authorization: basic(client.client_id, client.client_secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { active: boolean };
  }

  /** A signed-in session with a grant for the test client and a refresh token of that grant. */
  async function signedInSession(accountId: string, sid: string) {
    const provider = identity.app.get(OidcProviderHost).provider;
    const grant = new provider.Grant({ clientId: client.client_id, accountId });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const session = new provider.Session();
    session.loginAccount({ accountId, loginTs: Math.floor(Date.now() / 1000) });
    session.authorizations = { [client.client_id]: { grantId, sid, persistsLogout: true } };
    await session.save(600);
    const registered = await provider.Client.find(client.client_id);
    const refreshToken = await new provider.RefreshToken({
      client: registered!,
      accountId,
      grantId,
      scope: 'openid offline_access',
      gty: 'authorization_code',
      sid,
    }).save();
    return { uid: session.uid, grantId, refreshToken };
  }

  async function outboxEvents(type: string) {
    const rows = await identity.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
      [type],
    );
    return rows.map((row) => JSON.parse(row.payload) as { data: Record<string, unknown> });
  }

  beforeAll(async () => {
    const home = await mkdtemp(join(tmpdir(), 'rampart-home-'));
    gatewayPort = 24_000 + randomInt(0, 400) * 10;
    platform = await startAllInOne({
      ...TEST_RATE_LIMITS,
      RAMPART_HOME: home,
      RAMPART_PORT: String(gatewayPort),
      RAMPART_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
    });
    identity = platform.services.find((service) => service.name === 'identity')!;
    bootstrap = JSON.parse(await readFile(join(home, 'bootstrap.json'), 'utf8')) as Bootstrap;
    adminToken = await clientCredentials({ scope: 'scim' });

    logoutTokens = [];
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
    const logoutUri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/logout`;

    // A relying party registered as application developers do (DCR with an initial access token).
    const registration = await gateway('/oidc/register', {
      method: 'POST',
      headers: { ...bearer(bootstrap.initialAccessToken), 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'sessions e2e',
        redirect_uris: ['https://app.example/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'openid offline_access',
        backchannel_logout_uri: logoutUri,
        backchannel_logout_session_required: true,
      }),
    });
    expect(registration.status).toBe(201);
    client = (await registration.json()) as typeof client;
    expect(client.backchannel_logout_uri).toBe(logoutUri);
  }, 180_000);

  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await platform?.stop();
  });

  it('refuses callers without an admin token, with problem+json', async () => {
    const accountId = '00000000-0000-4000-8000-000000000000';
    const anonymous = await gateway(sessionsPath(accountId));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // A token for another API (key-management's audience) is not a token for this one.
    const kmsToken = await clientCredentials({
      resource: `${bootstrap.issuer}/kms`,
      scope: 'kms.admin',
    });
    expect((await gateway(sessionsPath(accountId), { headers: bearer(kmsToken) })).status).toBe(
      401,
    );
    const unknown = await gateway(sessionsPath(accountId), { headers: bearer(adminToken) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'not-found', detail: 'No such account.' });
    expect((await gateway(sessionsPath('not-an-id'), { headers: bearer(adminToken) })).status).toBe(
      404,
    );
  });

  it('lists, revokes one session (its grant and refresh token with it) and then all', async () => {
    const account = await identity.app.get(AccountsService).register({
      username: 'session-holder',
      email: 'session-holder@example.org',
      password: 'correct horse battery staple',
    });
    const first = await signedInSession(account.id, 'sid-first');
    const second = await signedInSession(account.id, 'sid-second');
    expect(await introspect(first.refreshToken)).toMatchObject({ active: true });

    const listed = await gateway(sessionsPath(account.id), { headers: bearer(adminToken) });
    expect(listed.status).toBe(200);
    const { sessions } = (await listed.json()) as {
      sessions: { id: string; device: string; ip: string | null; lastSeenAt: string }[];
    };
    expect(sessions.map((session) => session.id).sort()).toEqual([first.uid, second.uid].sort());
    expect(sessions[0]).toMatchObject({ device: 'Unknown device', ip: null });

    const revoked = await gateway(`${sessionsPath(account.id)}/${first.uid}`, {
      method: 'DELETE',
      headers: bearer(adminToken),
    });
    expect(revoked.status).toBe(204);
    // The refresh token of the session's grant is dead; the other session's is not.
    expect(await introspect(first.refreshToken)).toEqual({ active: false });
    expect(await introspect(second.refreshToken)).toMatchObject({ active: true });
    const provider = identity.app.get(OidcProviderHost).provider;
    expect(await provider.Grant.find(first.grantId)).toBeUndefined();
    expect(await provider.Session.findByUid(first.uid)).toBeUndefined();

    // The client asked for back-channel logout, but its endpoint is on loopback: the provider's
    // SSRF protection refuses special-use addresses, so nothing reaches it (delivery to a
    // permitted address is tested in services/identity sessions.integration-spec.ts).
    expect(logoutTokens).toEqual([]);

    const again = await gateway(`${sessionsPath(account.id)}/${first.uid}`, {
      method: 'DELETE',
      headers: bearer(adminToken),
    });
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const all = await gateway(sessionsPath(account.id), {
      method: 'DELETE',
      headers: bearer(adminToken),
    });
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ revoked: 1 });
    expect(await introspect(second.refreshToken)).toEqual({ active: false });
    expect(logoutTokens).toEqual([]);
    const empty = await gateway(sessionsPath(account.id), { headers: bearer(adminToken) });
    expect(await empty.json()).toEqual({ sessions: [] });

    const events = (await outboxEvents('rampart.identity.session.revoked')).filter(
      (event) => event.data['accountId'] === account.id,
    );
    expect(events.map((event) => event.data)).toEqual([
      expect.objectContaining({
        sessionUid: first.uid,
        by: 'admin',
        actor: `user:${bootstrap.adminClient.client_id}`,
        grantsRevoked: 1,
      }),
      expect.objectContaining({ sessionUid: second.uid, by: 'admin', grantsRevoked: 1 }),
    ]);
    const grants = (await outboxEvents('rampart.identity.oidc-grant.revoked')).filter(
      (event) => event.data['accountId'] === account.id,
    );
    expect(grants.map((event) => [event.data['grantId'], event.data['reason']])).toEqual([
      [first.grantId, 'session-revoked'],
      [second.grantId, 'session-revoked'],
    ]);
  });
});
