import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type RunningService } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import { csrfTokenOf, FormClient, freePort } from '@rampart/testing';
import { identityService } from '../identity.service.js';
import { LocalMailbox } from '../mail/local-mailbox.js';
import { Invitations } from '../pages/invitations.js';
import { identityTestEnv } from '../testing/identity-test-env.js';

const PASSWORD = 'a long and unusual pass phrase';
const HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>';

/** A running identity service whose issuer is its own address, and its local mailbox. */
interface Booted {
  service: RunningService;
  origin: string;
  mailbox: LocalMailbox;
  stop(): Promise<void>;
}

async function boot(extra: Record<string, string> = {}): Promise<Booted> {
  const database: TestDatabase = await createTestDatabase('identity');
  const folder = await mkdtemp(join(tmpdir(), 'rampart-identity-pages-'));
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const service = await startService(identityService, {
    env: await identityTestEnv(database, {
      PORT: String(port),
      RAMPART_ISSUER: origin,
      IDENTITY_MAILBOX_DIR: join(folder, 'mailbox'),
      IDENTITY_COOKIE_SECRET: 'a test secret that is long enough to key cookies',
      ...extra,
    }),
  });
  return {
    service,
    origin,
    mailbox: new LocalMailbox(join(folder, 'mailbox'), 'unused@example.org'),
    stop: async () => {
      await service.stop();
      await database.drop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** The `<input>` of a field, attributes separated by single spaces. */
function inputOf(page: string, name: string): string {
  // eslint-disable-next-line security/detect-non-literal-regexp -- a field name from this file
  const tag = new RegExp(`<input id="field-${name}"[^>]*>`).exec(page.replace(/\s+/g, ' '));
  if (!tag) throw new Error(`no input for ${name}`);
  return tag[0];
}

describe('sign-up and e-mail verification pages (real HTTP, real PostgreSQL)', () => {
  let booted: Booted;

  async function accountRow(username: string) {
    const [row] = await booted.service.dataSource!.query<
      { id: string; email: string; email_verified_at: Date | null }[]
    >(`SELECT id, email, email_verified_at FROM accounts WHERE lower(username) = lower($1)`, [
      username,
    ]);
    return row;
  }

  /** A browser that has loaded the sign-up page (it holds the CSRF cookie and token). */
  async function atRegistration() {
    const client = new FormClient(booted.origin);
    const page = await client.get('/account/register');
    expect(page.status).toBe(200);
    return { client, token: csrfTokenOf(page.body) };
  }

  beforeAll(async () => {
    booted = await boot();
  });

  afterAll(async () => {
    await booted?.stop();
  });

  it('serves the form with labelled, autocompleting fields and the security headers', async () => {
    const client = new FormClient(booted.origin);
    const first = await client.get('/account/register');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = first.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/]{22}==';/);
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain('unsafe');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const cookie = first.headers
      .getSetCookie()
      .find((line) => line.startsWith('__Host-rampart-csrf='));
    expect(cookie).toMatch(
      /^__Host-rampart-csrf=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
    );

    for (const [name, autocomplete, type] of [
      ['username', 'username', 'text'],
      ['email', 'email', 'email'],
      ['password', 'new-password', 'password'],
    ] as const) {
      expect(first.body).toContain(`<label for="field-${name}">`);
      expect(inputOf(first.body, name)).toContain(
        `name="${name}" type="${type}" autocomplete="${autocomplete}"`,
      );
    }
    expect(first.body).not.toMatch(/<script|style=|\son[a-z]+=/i);

    // A fresh nonce on every response; the same browser keeps its CSRF cookie.
    const second = await client.get('/account/register');
    expect(second.headers.get('content-security-policy')).not.toBe(csp);
    expect(second.headers.getSetCookie()).toEqual([]);
    expect(csrfTokenOf(second.body)).toBe(csrfTokenOf(first.body));
  });

  it('serves the stylesheet from its own origin, as the CSP requires', async () => {
    const response = await fetch(`${booted.origin}/account/assets/rampart.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await response.text()).toContain('.field');
  });

  it('refuses a post without, with a wrong or with another browser’s CSRF token (403 page)', async () => {
    const { client, token } = await atRegistration();
    const other = await atRegistration();
    const fields = {
      username: 'csrf-victim',
      email: 'csrf-victim@example.org',
      password: PASSWORD,
    };
    for (const attempt of [
      fields,
      { ...fields, _csrf: 'x'.repeat(43) },
      { ...fields, _csrf: other.token },
      { ...fields, _csrf: `${token}${token}` },
    ]) {
      const response = await client.post('/account/register', attempt);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('did not come from this site');
    }
    // The right token, but no cookie: a cross-site form cannot send one it does not know either.
    const cookieless = new FormClient(booted.origin);
    expect((await cookieless.post('/account/register', { ...fields, _csrf: token })).status).toBe(
      403,
    );
    expect(await accountRow('csrf-victim')).toBeUndefined();
  });

  it('refuses posts a browser marks as cross-site or from another origin, even with the token', async () => {
    const { client, token } = await atRegistration();
    const fields = {
      username: 'cross-site',
      email: 'cross@example.org',
      password: PASSWORD,
      _csrf: token,
    };
    const crossSite = await client.post('/account/register', fields, {
      'sec-fetch-site': 'cross-site',
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await client.post('/account/register', fields, {
      'sec-fetch-site': 'same-site',
    });
    expect(sameSite.status).toBe(403);
    const foreign = await client.post('/account/register', fields, {
      origin: 'https://evil.example',
    });
    expect(foreign.status).toBe(403);
    expect(await accountRow('cross-site')).toBeUndefined();
    // `Origin: null` (a no-referrer page's same-origin post in Chromium) leaves it to the token.
    const nullOrigin = await client.post('/account/register', fields, { origin: 'null' });
    expect(nullOrigin.status).toBe(303);
  });

  it('re-renders a refused form with its messages, the values typed (never the password), escaped', async () => {
    const { client, token } = await atRegistration();
    const response = await client.post('/account/register', {
      username: HOSTILE,
      email: `${HOSTILE}@example.org`,
      password: 'short',
      _csrf: token,
    });
    expect(response.status).toBe(422);
    expect(response.body).not.toContain('<img');
    expect(response.body).not.toContain('<script>alert');
    expect(response.body).toContain(
      'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;"',
    );
    expect(response.body).toMatch(/<p class="error" id="field-username-error">Use 3 to 64 letters/);
    expect(inputOf(response.body, 'username')).toContain(
      'aria-describedby="field-username-hint field-username-error"',
    );
    expect(inputOf(response.body, 'username')).toContain('aria-invalid="true"');
    expect(response.body).not.toContain('short');

    const weak = await client.post('/account/register', {
      username: 'weak-password',
      email: 'weak@example.org',
      password: 'short',
      _csrf: token,
    });
    expect(weak.status).toBe(422);
    expect(weak.body).toContain('Use at least 8 characters.');
    expect(weak.body).toContain('value="weak-password"');
    const passwordInput = inputOf(weak.body, 'password');
    expect(passwordInput).toContain('type="password" autocomplete="new-password"');
    expect(passwordInput).not.toContain('value=');
    expect(passwordInput).toContain('aria-invalid="true"');

    // Missing fields and a repeated field are a 422 form, never a 500.
    expect((await client.post('/account/register', { _csrf: token })).status).toBe(422);
    const repeated = await client.request(
      'POST',
      '/account/register',
      `username=a&username=b&email=x%40example.org&password=x&_csrf=${token}`,
      { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    );
    expect(repeated.status).toBe(422);
  });

  it('refuses an oversized form before reading it (413), and an unexpected body type without a 500', async () => {
    const { client, token } = await atRegistration();
    const large = await client.post('/account/register', {
      username: 'x'.repeat(20_000),
      email: 'large@example.org',
      password: PASSWORD,
      _csrf: token,
    });
    expect(large.status).toBe(413);
    const json = await client.request('POST', '/account/register', '{"username":"json"}', {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
    });
    expect(json.status).toBe(403);
  });

  it('registers, mails a link whose GET changes nothing, and verifies on the confirming POST', async () => {
    const { client, token } = await atRegistration();
    const created = await client.post('/account/register', {
      username: 'Page-Alice',
      email: 'Page-Alice@Example.org',
      password: PASSWORD,
      _csrf: token,
    });
    expect(created.status).toBe(303);
    expect(created.location).toBe('/account/register/sent');
    expect((await client.get('/account/register/sent')).body).toContain('Check your e-mail');

    const mails = await booted.mailbox.list('page-alice@example.org');
    expect(mails).toHaveLength(1);
    // eslint-disable-next-line security/detect-non-literal-regexp -- the test's own origin
    const link = new RegExp(`${booted.origin}/account/verify\\?token=([\\w-]{43})`).exec(
      mails[0]!.text,
    );
    expect(link).not.toBeNull();

    // A mail scanner (or the person) opening the link: a confirmation form, nothing consumed.
    const scanner = new FormClient(booted.origin);
    const opened = await scanner.get(`/account/verify?token=${link![1]}`);
    expect(opened.status).toBe(200);
    expect(opened.body).toContain(`name="token" value="${link![1]}"`);
    expect((await accountRow('page-alice'))!.email_verified_at).toBeNull();

    const confirmed = await scanner.post('/account/verify', {
      token: link![1]!,
      _csrf: csrfTokenOf(opened.body),
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.location).toBe('/account/verify/done');
    expect((await accountRow('page-alice'))!.email_verified_at).not.toBeNull();

    // Used once: the second confirmation is a 400 page with the one answer for bad links.
    const again = await scanner.post('/account/verify', {
      token: link![1]!,
      _csrf: csrfTokenOf(opened.body),
    });
    expect(again.status).toBe(400);
    expect(again.body).toContain('The verification link is invalid or has expired.');
    expect((await scanner.get('/account/verify')).status).toBe(400);
    expect((await scanner.get(`/account/verify?token=${'<b>'.repeat(30)}`)).body).not.toContain(
      '<b>',
    );
  });

  it('answers a taken username or address with one message (409), keeping the values', async () => {
    const { client, token } = await atRegistration();
    const fields = {
      username: 'Page-Bob',
      email: 'page-bob@example.org',
      password: PASSWORD,
      _csrf: token,
    };
    expect((await client.post('/account/register', fields)).status).toBe(303);
    const again = await client.post('/account/register', {
      ...fields,
      email: 'other-bob@example.org',
    });
    expect(again.status).toBe(409);
    expect(again.body).toContain('An account with this username or e-mail address already exists.');
    expect(again.body).toContain('value="other-bob@example.org"');
  });
});

describe('sign-up modes (IDENTITY_REGISTRATION)', () => {
  it('closed: the page and the post are refused with a 403 page', async () => {
    const booted = await boot({ IDENTITY_REGISTRATION: 'closed' });
    try {
      const client = new FormClient(booted.origin);
      const page = await client.get('/account/register');
      expect(page.status).toBe(403);
      expect(page.body).toContain('Sign-up is closed here.');
      // A valid token (the browser's, from any page with a form): the mode refuses, not CSRF.
      const form = await client.get('/account/verify?token=anything');
      const post = await client.post('/account/register', {
        username: 'closed',
        email: 'closed@example.org',
        password: PASSWORD,
        _csrf: csrfTokenOf(form.body),
      });
      expect(post.status).toBe(403);
      expect(post.body).toContain('Sign-up is closed here.');
    } finally {
      await booted.stop();
    }
  });

  it('invite: only with a valid invitation, and only for the invited address', async () => {
    const booted = await boot({ IDENTITY_REGISTRATION: 'invite' });
    try {
      const invitations = booted.service.app.get(Invitations);
      const client = new FormClient(booted.origin);
      expect((await client.get('/account/register')).status).toBe(403);
      const expired = invitations.create('late@example.org', 60, Date.now() - 120_000);
      expect((await client.get(`/account/register?invitation=${expired}`)).status).toBe(403);
      // Another last character of the signature (always another one: 'A' could be the same).
      const genuine = invitations.create('carol@example.org', 3600);
      const forged = genuine.slice(0, -1) + (genuine.endsWith('A') ? 'B' : 'A');
      expect((await client.get(`/account/register?invitation=${forged}`)).status).toBe(403);

      const invitation = invitations.create('Carol@Example.org', 3600);
      const page = await client.get(`/account/register?invitation=${invitation}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<strong>carol@example.org</strong>');
      // An address typed into the post is ignored: the invitation's is used.
      const created = await client.post('/account/register', {
        username: 'invited-carol',
        email: 'mallory@example.org',
        password: PASSWORD,
        invitation,
        _csrf: csrfTokenOf(page.body),
      });
      expect(created.status).toBe(303);
      const [row] = await booted.service.dataSource!.query<{ email: string }[]>(
        `SELECT email FROM accounts WHERE username = 'invited-carol'`,
      );
      expect(row!.email).toBe('carol@example.org');
      const reused = await client.post('/account/register', {
        username: 'invited-carol-2',
        password: PASSWORD,
        invitation,
        _csrf: csrfTokenOf(page.body),
      });
      expect(reused.status).toBe(409);
    } finally {
      await booted.stop();
    }
  });
});
