import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '@rampart/testing';
import { startAllInOne, type AllInOne } from './all-in-one.js';
import { TEST_RATE_LIMITS } from './testing/test-rate-limits.js';

/** Debian's package; CI installs it (.ci/run). Another build can be named with CHROMIUM_PATH. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const PASSWORD = 'a long and unusual pass phrase';
const HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>';

/**
 * The identity pages in a real browser, with JavaScript turned off: sign-up, the mailed
 * verification link, sign-in and consent for an application on another origin (Chromium applies
 * CSP form-action to the redirects after a form post), the account centre and sign-out, all
 * through the gateway of the whole platform. Every CSP violation the browser reports fails it.
 */
describe('identity pages in Chromium (no JavaScript)', () => {
  let platform: AllInOne;
  let home: string;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let application: Server;
  let redirectUri: string;
  let clientId: string;
  const callbacks: URL[] = [];
  const violations: string[] = [];
  const dialogs: string[] = [];

  async function verificationLink(email: string): Promise<string> {
    const folder = join(home, 'mailbox');
    for (const name of (await readdir(folder)).sort().reverse()) {
      const mail = JSON.parse(await readFile(join(folder, name), 'utf8')) as {
        to: string;
        text: string;
      };
      if (mail.to === email)
        return /http:\/\/\S+\/account\/verify\?token=[\w-]{43}/.exec(mail.text)![0];
    }
    throw new Error(`no mail to ${email}`);
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'rampart-pages-browser-'));
    const port = 20_000 + randomInt(0, 400) * 10 + 7;
    origin = `http://localhost:${port}`;
    platform = await startAllInOne({
      ...TEST_RATE_LIMITS,
      RAMPART_HOME: home,
      RAMPART_PORT: String(port),
      RAMPART_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
    });

    // The application: another origin, whose callback just records what it received.
    const applicationPort = await freePort();
    redirectUri = `http://127.0.0.1:${applicationPort}/callback`;
    application = createServer((request, response) => {
      const url = new URL(request.url ?? '/', redirectUri);
      if (url.pathname === '/callback') callbacks.push(url);
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>Application</title><h1>Back in the application</h1>');
    });
    await new Promise<void>((resolve) => application.listen(applicationPort, '127.0.0.1', resolve));
    const bootstrap = JSON.parse(await readFile(join(home, 'bootstrap.json'), 'utf8')) as {
      initialAccessToken: string;
    };
    const registered = await fetch(`${origin}/oidc/register`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bootstrap.initialAccessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_name: 'Photo album',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile email',
      }),
    });
    expect(registered.status).toBe(201);
    clientId = ((await registered.json()) as { client_id: string }).client_id;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    context = await browser.newContext({ javaScriptEnabled: false });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => application?.close(resolve));
    await platform?.stop();
  });

  it('signs up with labelled fields and sets only __Host- cookies', async () => {
    await page.goto(`${origin}/account/register`);
    expect(await page.title()).toBe('Create an account · Rampart');
    // The stylesheet loaded under `style-src 'self'`: the button has our colours.
    const background = await page.getByRole('button', { name: 'Create account' }).evaluate(
      (button) =>
        (
          globalThis as unknown as {
            getComputedStyle(element: unknown): { backgroundColor: string };
          }
        ).getComputedStyle(button).backgroundColor,
    );
    expect(background).toBe('rgb(36, 87, 197)');

    await page.getByLabel('Username').fill('browser-hana');
    await page.getByLabel('E-mail address').fill('browser-hana@example.org');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect((await page.locator('#field-password-error').textContent())?.trim()).toBe(
      'Use at least 8 characters.',
    );
    // The typed values survive the refusal, the password does not.
    expect(await page.getByLabel('Username').inputValue()).toBe('browser-hana');
    expect(await page.getByLabel('Password').inputValue()).toBe('');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${origin}/account/register/sent`);
    expect(await page.locator('h1').textContent()).toBe('Check your e-mail');

    const cookies = await context.cookies(origin);
    expect(cookies.map((cookie) => cookie.name)).toEqual(['__Host-rampart-csrf']);
    expect(cookies[0]).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
  });

  it('confirms the address from the mailed link only with the button', async () => {
    await page.goto(await verificationLink('browser-hana@example.org'));
    expect(await page.locator('h1').textContent()).toBe('Confirm your e-mail address');
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await page.waitForURL(`${origin}/account/verify/done`);
    expect(await page.locator('h1').textContent()).toBe('Address confirmed');
  });

  it('signs in and consents for an application on another origin, which receives a code', async () => {
    const verifier = randomBytes(32).toString('base64url');
    await page.goto(
      `${origin}/oidc/auth?${new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        state: 'browser-state',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString()}`,
    );
    expect(await page.locator('h1').textContent()).toBe('Sign in');
    expect(await page.locator('main').textContent()).toContain('to continue to Photo album');
    await page.getByLabel('Username').fill('browser-hana');
    await page.getByLabel('Password').fill('wrong password here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.locator('.error-summary').textContent()).toContain(
      'The username or password is not right.',
    );

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('h1:text("Allow access?")');
    expect(await page.locator('ul.scopes').textContent()).toContain('See your e-mail address');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    expect(await page.locator('h1').textContent()).toBe('Back in the application');
    const callback = callbacks.at(-1)!;
    expect(callback.searchParams.get('state')).toBe('browser-state');
    expect(callback.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
  });

  it('opens the account centre on the same session and shows hostile text as text', async () => {
    await page.goto(`${origin}/account`);
    expect(await page.locator('h1').textContent()).toBe('Your account');
    await page.getByLabel('Display name').fill(HOSTILE);
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.waitForURL(`${origin}/account?done=profile`);
    expect((await page.locator('.notice').textContent())?.trim()).toBe('Your profile is saved.');
    expect(await page.getByLabel('Display name').inputValue()).toBe(HOSTILE);
    expect(await page.locator('main img').count()).toBe(0);
  });

  it('changes the password from the account centre', async () => {
    await page.getByRole('link', { name: 'Password' }).click();
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill('another long pass phrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${origin}/account?done=password`);
    expect((await page.locator('.notice').textContent())?.trim()).toBe('Your password is changed.');
  });

  it('signs out through the provider’s confirmation page', async () => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    expect(await page.locator('h1').textContent()).toBe('Sign out');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForSelector('h1:text("Signed out")');
    await page.goto(`${origin}/account`);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
  });

  it('never ran a script nor broke the content security policy', () => {
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
  });
});
