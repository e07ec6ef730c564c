import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { csrfTokenOf, FormClient, freePort } from '@rampart/testing';
import { startAllInOne, type AllInOne } from './all-in-one.js';
import { TEST_RATE_LIMITS } from './testing/test-rate-limits.js';

const PASSWORD = 'a long and unusual pass phrase';
const HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>';

/**
 * The identity pages through the gateway of the whole platform (real HTTP, no browser): sign-in
 * as an ordered list of steps inside the provider's interaction, consent, the account centre on
 * the single sign-on session, CSRF and escaping. The browser test (identity-pages.browser) walks
 * the same pages in Chromium.
 */
describe('identity pages through the gateway', () => {
  let platform: AllInOne;
  let home: string;
  let origin: string;
  let bootstrap: { initialAccessToken: string };

  async function mailedLink(email: string): Promise<string> {
    const folder = join(home, 'mailbox');
    const { readdir } = await import('node:fs/promises');
    for (const name of (await readdir(folder)).sort().reverse()) {
      const mail = JSON.parse(await readFile(join(folder, name), 'utf8')) as {
        to: string;
        text: string;
      };
      if (mail.to === email) return /\/account\/verify\?token=[\w-]{43}/.exec(mail.text)![0];
    }
    throw new Error(`no mail to ${email}`);
  }

  /** Outbox events of the identity service of one type, oldest first. */
  async function events(type: string) {
    const identity = platform.services.find((service) => service.name === 'identity')!;
    const rows = await identity.dataSource!.query<{ payload: string }[]>(
      `SELECT payload FROM outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
      [type],
    );
    return rows.map((row) => JSON.parse(row.payload) as { data: Record<string, unknown> });
  }

  /** Registers through the sign-up page. */
  async function register(username: string): Promise<void> {
    const client = new FormClient(origin);
    const page = await client.get('/account/register');
    const response = await client.post('/account/register', {
      username,
      email: `${username}@example.org`,
      password: PASSWORD,
      _csrf: csrfTokenOf(page.body),
    });
    expect(response.status).toBe(303);
  }

  /** Signs in through the interaction the account centre starts; answers the account page. */
  async function signIntoAccountCentre(username: string, password = PASSWORD) {
    const client = new FormClient(origin);
    const login = await client.follow(await client.get('/account'));
    expect(login.status).toBe(200);
    const action = /action="(\/interaction\/[\w-]+\/login)"/.exec(login.body)![1]!;
    const done = await client.post(action, {
      step: 'password',
      username,
      password,
      _csrf: csrfTokenOf(login.body),
    });
    expect(done.status).toBe(303);
    const account = await client.follow(done);
    return { client, account };
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'rampart-pages-home-'));
    const port = 20_000 + randomInt(0, 400) * 10 + 5;
    origin = `http://localhost:${port}`;
    platform = await startAllInOne({
      ...TEST_RATE_LIMITS,
      RAMPART_HOME: home,
      RAMPART_PORT: String(port),
      RAMPART_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: process.env['PAGES_LOG'] ?? 'silent',
    });
    bootstrap = JSON.parse(await readFile(join(home, 'bootstrap.json'), 'utf8')) as {
      initialAccessToken: string;
    };
    await register('pages-dana');
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('sends the account centre without a session through the authorization endpoint', async () => {
    const client = new FormClient(origin);
    const response = await client.get('/account');
    expect(response.status).toBe(303);
    const location = new URL(response.location!);
    expect(location.origin + location.pathname).toBe(`${origin}/oidc/auth`);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      client_id: 'rampart-account',
      response_type: 'none',
      redirect_uri: `${origin}/account/callback`,
      scope: 'openid',
    });
    const login = await client.follow(response);
    expect(login.status).toBe(200);
    expect(login.body).toContain('<h1>Sign in</h1>');
    expect(login.headers.get('content-security-policy')).toContain(`form-action 'self' ${origin}`);
    expect(login.body).toContain('autocomplete="current-password"');
  });

  it('renders the sign-in page with the nonce of the gateway’s policy, a new one each time', async () => {
    const nonces: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const client = new FormClient(origin);
      const login = await client.follow(await client.get('/account'));
      const policy = login.headers.get('content-security-policy')!;
      const nonce = /script-src 'nonce-([A-Za-z0-9+/]{22}==)'/.exec(policy)![1]!;
      expect(login.body).toContain(`nonce="${nonce}"`);
      // The gateway's policy, not identity's: the report endpoint and the gateway's headers.
      expect(policy).toContain('report-uri /csp-reports');
      expect(policy).toContain("object-src 'none'");
      expect(login.headers.get('reporting-endpoints')).toBe('csp="/csp-reports"');
      expect(login.headers.get('permissions-policy')).toContain('camera=()');
      expect(login.headers.get('cache-control')).toBe('no-store');
      nonces.push(nonce);
    }
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it('refuses a wrong password with one message (400), records the attempt, keeps the username', async () => {
    const client = new FormClient(origin);
    const login = await client.follow(await client.get('/account'));
    const action = /action="(\/interaction\/[\w-]+\/login)"/.exec(login.body)![1]!;
    const wrong = await client.post(action, {
      step: 'password',
      username: 'pages-dana',
      password: 'not the password at all',
      _csrf: csrfTokenOf(login.body),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('The username or password is not right.');
    expect(wrong.body).toContain('value="pages-dana"');
    expect(wrong.body).not.toContain('not the password at all');
    const unknown = await client.post(action, {
      step: 'password',
      username: HOSTILE,
      password: 'whatever it is',
      _csrf: csrfTokenOf(login.body),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('The username or password is not right.');
    expect(unknown.body).not.toContain('<img');
    // Without the CSRF token: refused before the password is even looked at.
    const forged = await client.post(action, {
      step: 'password',
      username: 'pages-dana',
      password: PASSWORD,
    });
    expect(forged.status).toBe(403);
    // Another browser (no interaction cookie) cannot use this interaction's uid.
    const stranger = new FormClient(origin);
    const strangerPage = await stranger.get('/account/register');
    const hijack = await stranger.post(action, {
      step: 'password',
      username: 'pages-dana',
      password: PASSWORD,
      _csrf: csrfTokenOf(strangerPage.body),
    });
    expect(hijack.status).toBe(400);
  });

  it('signs in, then shows and edits the profile with hostile text escaped', async () => {
    const { client, account } = await signIntoAccountCentre('pages-dana');
    expect(account.status).toBe(200);
    expect(account.body).toContain('<h1>Your account</h1>');
    expect(account.body).toContain('pages-dana@example.org');
    const version = /name="version" value="(\d+)"/.exec(account.body)![1]!;
    const saved = await client.post('/account', {
      displayName: HOSTILE,
      givenName: 'Dana',
      familyName: '',
      version,
      _csrf: csrfTokenOf(account.body),
    });
    expect(saved.status).toBe(303);
    const shown = await client.get(saved.location!);
    expect(shown.body).toContain('Your profile is saved.');
    expect(shown.body).not.toContain('<img');
    expect(shown.body).not.toContain('<script>alert');
    expect(shown.body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    // The event names what changed, never the values (personal data).
    const [updated] = await events('rampart.identity.account.profile-updated');
    expect(updated!.data).toEqual({
      accountId: expect.any(String),
      version: 2,
      changed: ['givenName', 'displayName'],
    });
    // The sign-in event carries the address the gateway saw and the browser's user agent.
    const signedIn = await events('rampart.identity.login.succeeded');
    expect(signedIn.at(-1)!.data).toMatchObject({ ip: '127.0.0.1' });

    // A stale form (the version moved on) is refused, not silently applied.
    const stale = await client.post('/account', {
      displayName: 'Stale',
      givenName: '',
      familyName: '',
      version,
      _csrf: csrfTokenOf(account.body),
    });
    expect(stale.status).toBe(409);
    // Control characters are refused with the field named.
    const control = await client.post('/account', {
      displayName: 'bell\u0007',
      givenName: '',
      familyName: '',
      version: /name="version" value="(\d+)"/.exec(shown.body)![1]!,
      _csrf: csrfTokenOf(account.body),
    });
    expect(control.status).toBe(422);
    expect(control.body).toContain('id="field-displayName-error"');
  });

  it('changes the password only with the current one, then signs in with the new one', async () => {
    await register('pages-erin');
    const elsewhere = await signIntoAccountCentre('pages-erin');
    const { client } = await signIntoAccountCentre('pages-erin');
    const page = await client.get('/account/password');
    expect(page.status).toBe(200);
    const token = csrfTokenOf(page.body);
    const wrong = await client.post('/account/password', {
      currentPassword: 'not my password',
      newPassword: 'another long pass phrase',
      _csrf: token,
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain('Your current password is not correct.');
    const weak = await client.post('/account/password', {
      currentPassword: PASSWORD,
      newPassword: 'password',
      _csrf: token,
    });
    expect(weak.status).toBe(422);
    const changed = await client.post('/account/password', {
      currentPassword: PASSWORD,
      newPassword: 'another long pass phrase',
      _csrf: token,
    });
    expect(changed.status).toBe(303);
    // The other browser was signed out by the change; this one stays signed in.
    expect((await client.get('/account')).status).toBe(200);
    expect((await elsewhere.client.get('/account')).status).toBe(303);
    const again = await signIntoAccountCentre('pages-erin', 'another long pass phrase');
    expect(again.account.body).toContain('<h1>Your account</h1>');
  });

  it('requests deletion only when confirmed; sign-in is refused afterwards', async () => {
    await register('pages-finn');
    const { client } = await signIntoAccountCentre('pages-finn');
    const page = await client.get('/account/delete');
    const token = csrfTokenOf(page.body);
    expect((await client.post('/account/delete', { _csrf: token })).status).toBe(422);
    const deleted = await client.post('/account/delete', { confirm: 'yes', _csrf: token });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/account/delete/done');
    expect((await client.get(deleted.location!)).body).toContain('Your account is being deleted');
    // The request ended every session, this one included.
    expect((await client.get('/account')).status).toBe(303);

    const other = new FormClient(origin);
    const login = await other.follow(await other.get('/account'));
    const action = /action="(\/interaction\/[\w-]+\/login)"/.exec(login.body)![1]!;
    const refused = await other.post(action, {
      step: 'password',
      username: 'pages-finn',
      password: PASSWORD,
      _csrf: csrfTokenOf(login.body),
    });
    expect(refused.status).toBe(400);
  });

  it('lists the account’s sessions and ends another one, never someone else’s', async () => {
    await register('pages-ivy');
    const laptop = await signIntoAccountCentre('pages-ivy');
    const phone = await signIntoAccountCentre('pages-ivy');
    const stranger = await signIntoAccountCentre('pages-dana');
    const page = await laptop.client.get('/account/sessions');
    expect(page.status).toBe(200);
    expect(page.body.match(/<tr>/g)).toHaveLength(3); // the header and two sessions
    expect(page.body.match(/This device/g)).toHaveLength(1);
    const [phoneUid] = [...page.body.matchAll(/name="uid" value="([\w-]+)"/g)].map((m) => m[1]!);
    const token = csrfTokenOf(page.body);

    // Someone else's session uid is not found, whoever guesses it.
    const strangerPage = await stranger.client.get('/account/sessions');
    expect(strangerPage.body).not.toContain(phoneUid);
    const foreign = await stranger.client.post('/account/sessions/revoke', {
      uid: phoneUid!,
      _csrf: csrfTokenOf(strangerPage.body),
    });
    expect(foreign.status).toBe(404);
    expect((await phone.client.get('/account')).status).toBe(200);

    const ended = await laptop.client.post('/account/sessions/revoke', {
      uid: phoneUid!,
      _csrf: token,
    });
    expect(ended.status).toBe(303);
    expect((await laptop.client.get(ended.location!)).body).toContain('The session is ended.');
    // The phone is signed out; the laptop is not.
    expect((await phone.client.get('/account')).status).toBe(303);
    expect((await laptop.client.get('/account')).status).toBe(200);
    expect(
      (await laptop.client.post('/account/sessions/revoke', { uid: phoneUid!, _csrf: token }))
        .status,
    ).toBe(404);
    expect(
      (await laptop.client.post('/account/sessions/revoke', { uid: '../x', _csrf: token })).status,
    ).toBe(400);

    const tablet = await signIntoAccountCentre('pages-ivy');
    const others = await laptop.client.post('/account/sessions/revoke-others', { _csrf: token });
    expect(others.status).toBe(303);
    expect((await tablet.client.get('/account')).status).toBe(303);
    expect((await laptop.client.get('/account')).status).toBe(200);
  });

  it('a session-less POST to the account centre is a 401 page, not a redirect', async () => {
    const client = new FormClient(origin);
    const page = await client.get('/account/register');
    const response = await client.post('/account/password', {
      currentPassword: 'x',
      newPassword: 'y',
      _csrf: csrfTokenOf(page.body),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('asks consent for a third-party client (escaping its name) and returns a code; deny returns access_denied', async () => {
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    const registered = await fetch(`${origin}/oidc/register`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bootstrap.initialAccessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_name: `Photos ${HOSTILE}`,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile email',
      }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };

    const authorize = (state: string) => {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      return `/oidc/auth?${new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString()}`;
    };

    const { client } = await signIntoAccountCentre('pages-dana');
    const consent = await client.follow(await client.get(authorize('s1')));
    expect(consent.status).toBe(200);
    expect(consent.body).toContain('<h1>Allow access?</h1>');
    expect(consent.body).toContain('See your name, display name and username.');
    expect(consent.body).toContain('See your e-mail address and whether it is confirmed.');
    expect(consent.body).not.toContain('<img');
    expect(consent.body).toContain('Photos &quot;&gt;&lt;img');
    expect(consent.headers.get('content-security-policy')).toContain(
      `form-action 'self' http://127.0.0.1:`,
    );
    const confirm = /action="(\/interaction\/[\w-]+\/confirm)"/.exec(consent.body)![1]!;
    expect((await client.post(confirm, {})).status).toBe(403);
    const approved = await client.follow(
      await client.post(confirm, { _csrf: csrfTokenOf(consent.body) }),
    );
    const back = new URL(approved.location!);
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('s1');
    expect(back.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);

    // Consent is remembered: the next authorization returns straight to the client.
    const remembered = await client.follow(await client.get(authorize('s2')));
    expect(new URL(remembered.location!).searchParams.get('code')).toBeTruthy();

    // Another person denies.
    await register('pages-gus');
    const gus = await signIntoAccountCentre('pages-gus');
    const asked = await gus.client.follow(await gus.client.get(authorize('s3')));
    const abort = /action="(\/interaction\/[\w-]+\/abort)"/.exec(asked.body)![1]!;
    const denied = await gus.client.follow(
      await gus.client.post(abort, { _csrf: csrfTokenOf(asked.body) }),
    );
    const refusal = new URL(denied.location!);
    expect(refusal.searchParams.get('error')).toBe('access_denied');
    expect(refusal.searchParams.get('state')).toBe('s3');
  });

  it('verifies e-mail through the mailed link on the gateway', async () => {
    const client = new FormClient(origin);
    const link = await mailedLink('pages-dana@example.org');
    const page = await client.get(link);
    expect(page.status).toBe(200);
    const token = /name="token" value="([\w-]+)"/.exec(page.body)![1]!;
    const done = await client.post('/account/verify', { token, _csrf: csrfTokenOf(page.body) });
    expect(done.status).toBe(303);
  });

  it('renders the device flow’s pages labelled and script-free, and completes a device sign-in', async () => {
    const registered = await fetch(`${origin}/oidc/register`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bootstrap.initialAccessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_name: `TV ${HOSTILE}`,
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'none',
        scope: 'openid',
      }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const device = await fetch(`${origin}/oidc/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, scope: 'openid' }).toString(),
    });
    expect(device.status).toBe(200);
    const { user_code: userCode } = (await device.json()) as { user_code: string };

    const { client } = await signIntoAccountCentre('pages-dana');
    const input = await client.get('/oidc/device');
    expect(input.status).toBe(200);
    expect(input.body).toContain('<h1>Connect a device</h1>');
    expect(input.body).toContain('<label for="field-user_code">');
    expect(input.body).not.toMatch(/<script|\son[a-z]+=/i);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(input.body)![1]!;

    const wrong = await client.post('/oidc/device', { xsrf, user_code: 'BCDF-GHJK' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('The code you entered is not right');

    // Each rendering of the form carries a fresh xsrf value.
    const retryXsrf = /name="xsrf" value="([^"]+)"/.exec(wrong.body)![1]!;
    const confirm = await client.post('/oidc/device', { xsrf: retryXsrf, user_code: userCode });
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('<h1>Confirm the device</h1>');
    expect(confirm.body).toContain(`<code>${userCode}</code>`);
    expect(confirm.body).not.toContain('<img');
    expect(confirm.body).toContain('TV &quot;&gt;&lt;img');
    const confirmXsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]!;
    const confirmed = await client.follow(
      await client.post('/oidc/device', { xsrf: confirmXsrf, user_code: userCode, confirm: 'yes' }),
    );
    // Signed in already: straight to consent for the device's client.
    expect(confirmed.body).toContain('<h1>Allow access?</h1>');
    const allow = /action="(\/interaction\/[\w-]+\/confirm)"/.exec(confirmed.body)![1]!;
    const success = await client.follow(
      await client.post(allow, { _csrf: csrfTokenOf(confirmed.body) }),
    );
    expect(success.status).toBe(200);
    expect(success.body).toContain('<h1>Device connected</h1>');
  });

  it('renders the provider’s own pages (sign-out, errors) in the layout, without scripts', async () => {
    const { client } = await signIntoAccountCentre('pages-dana');
    const logout = await client.get('/oidc/session/end');
    expect(logout.status).toBe(200);
    expect(logout.body).toContain('<h1>Sign out</h1>');
    expect(logout.body).toContain('id="op.logoutForm"');
    expect(logout.body).not.toMatch(/<script|\son[a-z]+=/i);
    expect(logout.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(logout.body)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(logout.body)![1]!;
    const signedOut = await client.follow(
      await client.post(new URL(action).pathname, { xsrf, logout: 'yes' }),
    );
    expect(signedOut.body).toContain('<h1>Signed out</h1>');
    // The account centre now asks to sign in again.
    expect((await client.get('/account')).status).toBe(303);

    const error = await client.get('/oidc/auth?client_id=nobody&response_type=code');
    expect(error.status).toBe(400);
    expect(error.body).toContain('<h1>Sign-in could not continue</h1>');
    expect(error.body).not.toMatch(/<script|style=/i);
  });
});
