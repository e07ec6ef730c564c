import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '@rampart/testing';
import { startPlatformUnderTest, type PlatformUnderTest } from './testing/platform-under-test.js';

/** Debian's package; CI installs it (.ci/run). Another build can be named with CHROMIUM_PATH. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const PASSWORD = 'provisioned and quite long';
const SCOPE = 'openid profile email offline_access';

/**
 * The end-to-end story: a real relying party (openid-client) discovers Rampart, registers
 * itself with the initial access token, and signs a person in with the authorization code flow
 * and PKCE through the real pages in Chromium. It validates the ID token and userinfo, introspects,
 * refreshes (and proves that reusing a refresh token revokes the whole grant), revokes, and signs
 * the person out again. The person was provisioned through SCIM with a password and signs in at
 * once. Everything goes through the gateway of one all-in-one platform.
 */
describe('a relying party signs a person in with Rampart (openid-client + Chromium)', () => {
  let rampart: PlatformUnderTest;
  let browser: Browser;
  let page: Page;
  let application: Server;
  let applicationOrigin: string;
  let relyingParty: client.Configuration;
  const callbacks: URL[] = [];
  const violations: string[] = [];
  let personId: string;
  /** Every secret and token this file handles: none may appear in an event. */
  const secrets = new Set<string>([PASSWORD]);

  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  let refreshed: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  const insecure = { execute: [client.allowInsecureRequests] };

  beforeAll(async () => {
    rampart = await startPlatformUnderTest('relying-party');
    secrets.add(rampart.bootstrap.initialAccessToken);
    secrets.add(rampart.bootstrap.adminClient.client_secret);

    // The application's own web server: it records where the browser came back to.
    const port = await freePort();
    applicationOrigin = `http://127.0.0.1:${port}`;
    application = createServer((request, response) => {
      const url = new URL(request.url ?? '/', applicationOrigin);
      // Not the browser's own requests (favicon): only where Rampart sent it back.
      if (url.pathname !== '/favicon.ico') callbacks.push(url);
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>Notes</title><h1>Back in Notes</h1>');
    });
    await new Promise<void>((resolve) => application.listen(port, '127.0.0.1', resolve));

    // The person, provisioned by an administrator's SCIM client with a password.
    const admin = await client.discovery(
      new URL(rampart.issuer),
      rampart.bootstrap.adminClient.client_id,
      {},
      client.ClientSecretBasic(rampart.bootstrap.adminClient.client_secret),
      insecure,
    );
    const { access_token: scimToken } = await client.clientCredentialsGrant(admin, {
      scope: 'scim',
    });
    const provisioned = await fetch(`${rampart.issuer}/scim/v2/Users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${scimToken}`,
        'content-type': 'application/scim+json',
      },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'mira',
        name: { givenName: 'Mira', familyName: 'Okafor' },
        emails: [{ value: 'mira@example.org', primary: true }],
        password: PASSWORD,
      }),
    });
    expect(provisioned.status).toBe(201);
    personId = ((await provisioned.json()) as { id: string }).id;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    page = await (await browser.newContext()).newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => application?.close(resolve));
    await rampart?.stop();
  });

  it('discovers the issuer and registers dynamically with the initial access token', async () => {
    relyingParty = await client.dynamicClientRegistration(
      new URL(rampart.issuer),
      {
        client_name: 'Notes',
        redirect_uris: [`${applicationOrigin}/callback`],
        post_logout_redirect_uris: [`${applicationOrigin}/signed-out`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: SCOPE,
      },
      // client_secret_basic with the secret the registration answered (openid-client would post it).
      (server, metadata, body, headers) =>
        client.ClientSecretBasic(metadata.client_secret)(server, metadata, body, headers),
      {
        initialAccessToken: rampart.bootstrap.initialAccessToken,
        // Non-repudiation: openid-client checks the ID token's signature against jwks_uri too.
        execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
      },
    );
    const metadata = relyingParty.clientMetadata();
    expect(metadata.client_id).toEqual(expect.any(String));
    secrets.add(metadata.client_secret as string);
    secrets.add(metadata['registration_access_token'] as string);
    expect(relyingParty.serverMetadata().issuer).toBe(rampart.issuer);
    await rampart.eventually('rampart.identity.oidc-client.registered', {
      clientId: metadata.client_id,
      via: 'dynamic-registration',
    });
  });

  /**
   * One authorization code flow with PKCE in the browser: the sign-in page when there is no
   * session yet, then consent, back to the application, and the code exchanged by openid-client.
   */
  async function authorize(signIn: boolean) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorization = client.buildAuthorizationUrl(relyingParty, {
      redirect_uri: `${applicationOrigin}/callback`,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // oidc-provider grants offline_access (a refresh token) only with explicit consent.
      prompt: 'consent',
    });

    await page.goto(authorization.href);
    if (signIn) {
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      await page.getByLabel('Username').fill('mira');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    await page.waitForSelector('h1:text("Allow access?")');
    expect(await page.locator('main').textContent()).toContain('Notes');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${applicationOrigin}/callback`));
    expect(await page.locator('h1').textContent()).toBe('Back in Notes');

    const callback = callbacks.at(-1)!;
    expect(callback.searchParams.get('iss')).toBe(rampart.issuer);
    const issued = await client.authorizationCodeGrant(relyingParty, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    for (const token of [issued.access_token, issued.refresh_token!, issued.id_token!])
      secrets.add(token);
    expect(issued.refresh_token).toEqual(expect.any(String));
    return issued;
  }

  it('signs in with the authorization code flow and PKCE through the pages in Chromium', async () => {
    tokens = await authorize(true);
    await rampart.eventually('rampart.identity.login.succeeded', { accountId: personId });
  });

  it('issues an ID token that verifies against jwks_uri, and answers userinfo', async () => {
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: rampart.issuer,
      sub: personId,
      aud: relyingParty.clientMetadata().client_id,
    });
    const jwks = createRemoteJWKSet(new URL(relyingParty.serverMetadata().jwks_uri!));
    const { protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: rampart.issuer,
      audience: relyingParty.clientMetadata().client_id,
    });
    expect(protectedHeader.alg).toBe('ES256');

    const userinfo = await client.fetchUserInfo(relyingParty, tokens.access_token, personId);
    expect(userinfo).toMatchObject({
      sub: personId,
      preferred_username: 'mira',
      given_name: 'Mira',
      family_name: 'Okafor',
      email: 'mira@example.org',
      // Provisioned through SCIM: the provisioner vouched for the address.
      email_verified: true,
    });
  });

  it('introspects its access token', async () => {
    const introspection = await client.tokenIntrospection(relyingParty, tokens.access_token);
    expect(introspection).toMatchObject({
      active: true,
      sub: personId,
      client_id: relyingParty.clientMetadata().client_id,
    });
    expect(introspection.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email']));
  });

  it('refreshes, rotating the refresh token', async () => {
    refreshed = await client.refreshTokenGrant(relyingParty, tokens.refresh_token!);
    secrets.add(refreshed.access_token);
    secrets.add(refreshed.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(personId);
    expect((await client.tokenIntrospection(relyingParty, refreshed.access_token)).active).toBe(
      true,
    );
  });

  it('revokes the whole grant when a used refresh token comes back', async () => {
    const refusal = async (refreshToken: string) =>
      client.refreshTokenGrant(relyingParty, refreshToken).then(
        () => undefined,
        (error: unknown) => (error as client.ResponseBodyError).error,
      );
    expect(await refusal(tokens.refresh_token!)).toBe('invalid_grant');
    // The thief and the rightful holder are both out: the newest tokens are dead too.
    expect(await refusal(refreshed.refresh_token!)).toBe('invalid_grant');
    for (const token of [refreshed.access_token, refreshed.refresh_token!])
      expect((await client.tokenIntrospection(relyingParty, token)).active).toBe(false);
    const detected = await rampart.eventually(
      'rampart.identity.oidc-grant.refresh-token-reuse-detected',
      { clientId: relyingParty.clientMetadata().client_id, accountId: personId },
    );
    await rampart.eventually('rampart.identity.oidc-grant.revoked', {
      grantId: detected.data['grantId'],
      reason: 'refresh-token-reuse',
    });
  });

  it('revokes a refresh token, and with it every token of its grant (RFC 7009)', async () => {
    // Still signed in: consent again for a new grant, no password.
    const again = await authorize(false);
    expect((await client.tokenIntrospection(relyingParty, again.access_token)).active).toBe(true);
    await client.tokenRevocation(relyingParty, again.refresh_token!);
    for (const token of [again.access_token, again.refresh_token!])
      expect((await client.tokenIntrospection(relyingParty, token)).active).toBe(false);
    await rampart.eventually('rampart.identity.oidc-grant.revoked', {
      clientId: relyingParty.clientMetadata().client_id,
      reason: 'token-revoked',
    });
  });

  it('signs out through RP-initiated logout and lands back in the application', async () => {
    const logout = client.buildEndSessionUrl(relyingParty, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: `${applicationOrigin}/signed-out`,
      state: 'bye',
    });
    await page.goto(logout.href);
    expect(await page.locator('h1').textContent()).toBe('Sign out');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL((url) => url.href.startsWith(`${applicationOrigin}/signed-out`));
    expect(callbacks.at(-1)!.searchParams.get('state')).toBe('bye');
    await rampart.eventually('rampart.identity.oidc-request.logged-out', {
      clientId: relyingParty.clientMetadata().client_id,
    });

    // The session is over: the account centre asks for a sign-in again.
    await page.goto(`${rampart.issuer}/account`);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
  });

  it('kept to the content security policy and put no secret in any event', async () => {
    expect(violations).toEqual([]);
    const recorded: unknown[] = [];
    for (const type of [
      'rampart.identity.oidc-client.registered',
      'rampart.identity.login.succeeded',
      'rampart.identity.oidc-grant.revoked',
      'rampart.identity.oidc-grant.refresh-token-reuse-detected',
      'rampart.identity.oidc-request.refused',
      'rampart.identity.oidc-request.logged-out',
      'rampart.identity.scim.user-created',
    ]) {
      recorded.push(...(await rampart.events(type)));
    }
    expect(recorded.length).toBeGreaterThan(6);
    const text = JSON.stringify(recorded);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
