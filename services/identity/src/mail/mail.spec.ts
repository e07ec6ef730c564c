import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@rampart/platform';
import { identityConfigSchema } from '../config/identity.config.js';
import { LocalMailbox } from './local-mailbox.js';
import { createMailer } from './mail.module.js';
import { assertSendable, isMailAddress, parseSender, recipientDomain } from './mailer.js';
import { SmtpMailer } from './smtp-mailer.js';
import { capturedLogger } from '../testing/captured-logger.js';
import { CONFIG_TEST_ENV } from '../testing/config-env.js';

const baseEnv = CONFIG_TEST_ENV;

const load = (env: Record<string, string>) =>
  loadConfig('identity', identityConfigSchema, { ...baseEnv, ...env });

/** The variables a ConfigError names, or [] when loading succeeds. */
function refusedVariables(env: Record<string, string>): string[] {
  try {
    load(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) => issue.variable);
  }
}

describe('LocalMailbox', () => {
  let directory: string;

  beforeEach(async () => {
    directory = join(await mkdtemp(join(tmpdir(), 'rampart-mailbox-')), 'mailbox');
  });

  afterEach(async () => {
    await rm(join(directory, '..'), { recursive: true, force: true });
  });

  it('writes each message to a 0600 file in a 0700 folder and reads it back', async () => {
    const log = capturedLogger();
    const mailbox = new LocalMailbox(directory, 'Rampart <no-reply@rampart.localhost>', log.logger);
    expect(await mailbox.list()).toEqual([]);

    const first = await mailbox.send({
      to: 'ada@example.org',
      subject: 'Verify your e-mail address',
      text: 'https://id.example/verify?code=1',
      html: '<a href="https://id.example/verify?code=1">verify</a>',
    });
    const second = await mailbox.send({ to: 'bob@example.org', subject: 'Second', text: 'two' });

    expect(first).not.toBe(second);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    const files = await readdir(directory);
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file).toMatch(/^\d{13}-[0-9a-f-]{36}\.json$/);
      expect((await stat(join(directory, file))).mode & 0o777).toBe(0o600);
    }

    const all = await mailbox.list();
    expect(all.map((mail) => mail.subject)).toEqual(['Verify your e-mail address', 'Second']);
    expect(await mailbox.read(first)).toMatchObject({
      messageId: first,
      from: 'Rampart <no-reply@rampart.localhost>',
      to: 'ada@example.org',
      subject: 'Verify your e-mail address',
      text: 'https://id.example/verify?code=1',
      html: '<a href="https://id.example/verify?code=1">verify</a>',
    });
    expect(await mailbox.list('BOB@example.org')).toHaveLength(1);
    expect(await mailbox.read('<missing@rampart.mailbox>')).toBeUndefined();
    // The file is plain JSON a developer can open.
    const raw = JSON.parse(await readFile(join(directory, files.sort()[1]!), 'utf8')) as {
      text: string;
    };
    expect(raw.text).toBe('two');

    // Logs name the message and the recipient's domain, never the body or the whole address.
    expect(log.text()).toContain(first);
    expect(log.text()).toContain('"recipientDomain":"example.org"');
    expect(log.text()).not.toContain('verify?code=1');
    // The address's local part is never logged (a random message id may contain "ada@").
    expect(log.text()).not.toContain('ada@example.org');
    expect(log.text()).not.toMatch(/"ada@/);
  });

  it('refuses header injection and writes nothing', async () => {
    const mailbox = new LocalMailbox(directory, 'no-reply@rampart.localhost');
    await expect(
      mailbox.send({ to: 'ada@example.org', subject: 'Hi\nBcc: eve@evil.example', text: 'x' }),
    ).rejects.toMatchObject({ code: 'validation-failed', status: 400 });
    await expect(
      mailbox.send({ to: 'ada@example.org\r\n', subject: 'Hi', text: 'x' }),
    ).rejects.toMatchObject({ code: 'validation-failed' });
    expect(await mailbox.list()).toEqual([]);
  });
});

describe('message checks', () => {
  it('accepts single plain addresses only', () => {
    expect(isMailAddress('ada.lovelace+rampart@mail.example.org')).toBe(true);
    for (const bad of [
      'ada@localhost',
      'ada@example.org, eve@evil.example',
      'Ada <ada@example.org>',
      '"a b"@example.org',
      'ada@@example.org',
      'ada@-example.org',
      '@example.org',
      'ada@example.org\n',
      `${'a'.repeat(65)}@example.org`,
    ]) {
      expect(isMailAddress(bad)).toBe(false);
    }
  });

  it('refuses control characters in the subject and over-long subjects; bodies are free text', () => {
    const ok = { to: 'ada@example.org', subject: 'Welcome — été', text: 'line 1\r\nline 2' };
    expect(() => assertSendable(ok)).not.toThrow();
    expect(() => assertSendable({ ...ok, subject: 'a\u0000b' })).toThrow();
    expect(() => assertSendable({ ...ok, subject: 'a\rb' })).toThrow();
    expect(() => assertSendable({ ...ok, subject: 'a'.repeat(999) })).toThrow();
  });

  it('parses senders and logs domains only', () => {
    expect(parseSender('no-reply@example.org')).toEqual({ address: 'no-reply@example.org' });
    expect(parseSender('Rampart <no-reply@example.org>')).toEqual({
      name: 'Rampart',
      address: 'no-reply@example.org',
    });
    expect(parseSender('Rampart\r\nBcc: x@y.example <no-reply@example.org>')).toBeUndefined();
    expect(parseSender('"Quoted" <no-reply@example.org>')).toBeUndefined();
    expect(recipientDomain('Ada@Mail.Example.org')).toBe('mail.example.org');
  });
});

describe('mail configuration', () => {
  it('selects the local mailbox by default in development, in IDENTITY_MAILBOX_DIR', () => {
    const mailer = createMailer(load({ IDENTITY_MAILBOX_DIR: '/var/lib/rampart/mailbox' }));
    expect(mailer).toBeInstanceOf(LocalMailbox);
    expect((mailer as LocalMailbox).directory).toBe('/var/lib/rampart/mailbox');
    expect((createMailer(load({})) as LocalMailbox).directory).toBe('.rampart/mailbox');
  });

  it('selects SMTP when IDENTITY_SMTP_URL is set', async () => {
    const mailer = createMailer(load({ IDENTITY_SMTP_URL: 'smtp://relay.example.org:2525' }));
    expect(mailer).toBeInstanceOf(SmtpMailer);
    await mailer.close();
  });

  it('accepts a production configuration with smtps:// or STARTTLS and a sender', () => {
    const production = { RAMPART_MODE: 'production', IDENTITY_MAIL_FROM: 'no-reply@example.org' };
    expect(
      refusedVariables({ ...production, IDENTITY_SMTP_URL: 'smtps://u:p@relay.example.org' }),
    ).toEqual([]);
    const config = load({ ...production, IDENTITY_SMTP_URL: 'smtp://relay.example.org:587' });
    expect(config.IDENTITY_SMTP_REQUIRE_TLS).toBe(true);
  });

  it('refuses the local mailbox, plain SMTP and a missing sender in production', () => {
    expect(refusedVariables({ RAMPART_MODE: 'production' })).toEqual(['IDENTITY_SMTP_URL']);
    expect(
      refusedVariables({
        RAMPART_MODE: 'production',
        IDENTITY_SMTP_URL: 'smtp://relay.example.org',
        IDENTITY_SMTP_REQUIRE_TLS: 'false',
        IDENTITY_MAIL_FROM: 'no-reply@example.org',
      }),
    ).toEqual(['IDENTITY_SMTP_REQUIRE_TLS']);
    expect(
      refusedVariables({
        RAMPART_MODE: 'production',
        IDENTITY_SMTP_URL: 'smtps://relay.example.org',
      }),
    ).toEqual(['IDENTITY_MAIL_FROM']);
    // Development may turn STARTTLS off for a local mail catcher.
    expect(
      refusedVariables({
        IDENTITY_SMTP_URL: 'smtp://127.0.0.1:1025',
        IDENTITY_SMTP_REQUIRE_TLS: 'false',
      }),
    ).toEqual([]);
  });

  it('refuses other URL schemes and malformed senders', () => {
    expect(refusedVariables({ IDENTITY_SMTP_URL: 'http://relay.example.org' })).toEqual([
      'IDENTITY_SMTP_URL',
    ]);
    expect(refusedVariables({ IDENTITY_MAIL_FROM: 'not an address' })).toEqual([
      'IDENTITY_MAIL_FROM',
    ]);
  });
});
