import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { loadConfig } from '@rampart/platform';
import { identityConfigSchema } from '../config/identity.config.js';
import { createMailer } from './mail.module.js';
import { SmtpMailer } from './smtp-mailer.js';
import { capturedLogger } from '../testing/captured-logger.js';
import { CONFIG_TEST_ENV } from '../testing/config-env.js';

/** What a real SMTP server received: envelope, raw message, and whether the session used TLS. */
interface Received {
  from: string | undefined;
  to: string[];
  raw: string;
  secure: boolean;
  user: string | undefined;
}

/** Starts smtp-server on a free port; every accepted message lands in `received`. */
async function startSmtpServer(options: SMTPServerOptions = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    ...options,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Running = Awaited<ReturnType<typeof startSmtpServer>>;

describe('SmtpMailer against a real SMTP server (smtp-server)', () => {
  const open: { close(): Promise<void> }[] = [];
  let certificates: string;
  let key: string;
  let cert: string;

  beforeAll(async () => {
    // A throw-away self-signed certificate for 127.0.0.1, made with the system's openssl.
    certificates = await mkdtemp(join(tmpdir(), 'rampart-smtp-tls-'));
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(certificates, 'key.pem'),
      '-out',
      join(certificates, 'cert.pem'),
    ]);
    key = await readFile(join(certificates, 'key.pem'), 'utf8');
    cert = await readFile(join(certificates, 'cert.pem'), 'utf8');
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((resource) => resource.close()));
  });

  afterAll(async () => {
    await rm(certificates, { recursive: true, force: true });
  });

  const track = <T extends { close(): Promise<void> }>(resource: T): T => {
    open.push(resource);
    return resource;
  };

  async function server(options: SMTPServerOptions = {}): Promise<Running> {
    return track(await startSmtpServer(options));
  }

  it('delivers a message with the right envelope, headers and bodies', async () => {
    const smtp = await server({ hideSTARTTLS: true });
    const log = capturedLogger();
    const mailer = track(
      new SmtpMailer({
        url: `smtp://127.0.0.1:${smtp.port}`,
        from: 'Rampart <no-reply@rampart.example>',
        requireTLS: false,
        logger: log.logger,
      }),
    );

    const messageId = await mailer.send({
      to: 'ada@example.org',
      subject: 'Verify your e-mail address',
      text: 'Open https://id.example/verify?code=abc123 to verify.',
      html: '<p>Open <a href="https://id.example/verify?code=abc123">this link</a>.</p>',
    });

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail!.from).toBe('no-reply@rampart.example');
    expect(mail!.to).toEqual(['ada@example.org']);
    expect(mail!.raw).toMatch(/^From: Rampart <no-reply@rampart\.example>\r$/m);
    expect(mail!.raw).toMatch(/^To: ada@example\.org\r$/m);
    expect(mail!.raw).toMatch(/^Subject: Verify your e-mail address\r$/m);
    expect(mail!.raw).toContain(`Message-ID: ${messageId}`);
    expect(mail!.raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(mail!.raw).toContain('Open https://id.example/verify?code=abc123 to verify.');
    expect(mail!.raw).toMatch(/^Content-Type: text\/html/m);
    expect(messageId).toMatch(/^<.+@.+>$/);
    // Logged: the message id and the recipient's domain; never the body or the whole address.
    expect(log.text()).toContain(messageId);
    expect(log.text()).toContain('"recipientDomain":"example.org"');
    expect(log.text()).not.toContain('abc123');
    expect(log.text()).not.toContain('ada@');
  });

  it('refuses to send over plain SMTP when TLS is required and the server offers no STARTTLS', async () => {
    const smtp = await server({ disabledCommands: ['STARTTLS'] });
    const mailer = track(
      new SmtpMailer({
        url: `smtp://127.0.0.1:${smtp.port}`,
        from: 'no-reply@rampart.example',
        requireTLS: true,
      }),
    );
    await expect(
      mailer.send({ to: 'ada@example.org', subject: 'Secret', text: 'code 123' }),
    ).rejects.toThrow(/STARTTLS/);
    expect(smtp.received).toHaveLength(0);
  });

  it('upgrades with STARTTLS, verifies the certificate, and authenticates with the URL credentials', async () => {
    const smtp = await server({
      key,
      cert,
      authMethods: ['PLAIN'],
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === 'p@ss:word') {
          callback(null, { user: auth.username });
        } else {
          callback(new Error('invalid credentials'));
        }
      },
    });
    const mailer = track(
      new SmtpMailer({
        url: `smtp://mailer:${encodeURIComponent('p@ss:word')}@127.0.0.1:${smtp.port}`,
        from: 'no-reply@rampart.example',
        requireTLS: true,
        tls: { ca: cert },
      }),
    );
    await mailer.send({ to: 'ada@example.org', subject: 'Over TLS', text: 'hello' });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.secure).toBe(true);
    expect(smtp.received[0]!.user).toBe('mailer');
  });

  it('refuses a server whose certificate it cannot verify', async () => {
    const smtp = await server({ key, cert });
    const mailer = track(
      new SmtpMailer({
        url: `smtp://127.0.0.1:${smtp.port}`,
        from: 'no-reply@rampart.example',
        requireTLS: true,
      }),
    );
    await expect(mailer.send({ to: 'ada@example.org', subject: 'x', text: 'y' })).rejects.toThrow(
      /self-signed certificate/,
    );
    expect(smtp.received).toHaveLength(0);
  });

  it('speaks implicit TLS for smtps://', async () => {
    const smtp = await server({ key, cert, secure: true });
    const mailer = track(
      new SmtpMailer({
        url: `smtps://127.0.0.1:${smtp.port}`,
        from: 'no-reply@rampart.example',
        requireTLS: true,
        tls: { ca: cert },
      }),
    );
    await mailer.send({ to: 'ada@example.org', subject: 'Implicit TLS', text: 'hello' });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.secure).toBe(true);
  });

  it('refuses header injection before connecting', async () => {
    const smtp = await server({ hideSTARTTLS: true });
    const mailer = track(
      new SmtpMailer({
        url: `smtp://127.0.0.1:${smtp.port}`,
        from: 'no-reply@rampart.example',
        requireTLS: false,
      }),
    );
    await expect(
      mailer.send({ to: 'ada@example.org', subject: 'Hi\r\nBcc: eve@evil.example', text: 'x' }),
    ).rejects.toMatchObject({ code: 'validation-failed' });
    await expect(
      mailer.send({ to: 'ada@example.org\r\nBcc: eve@evil.example', subject: 'Hi', text: 'x' }),
    ).rejects.toMatchObject({ code: 'validation-failed' });
    await expect(
      mailer.send({ to: 'ada@example.org, eve@evil.example', subject: 'Hi', text: 'x' }),
    ).rejects.toMatchObject({ code: 'validation-failed' });
    expect(smtp.received).toHaveLength(0);
  });

  it('in production, requires STARTTLS even if IDENTITY_SMTP_REQUIRE_TLS reached it as false', async () => {
    const smtp = await server({ disabledCommands: ['STARTTLS'] });
    const config = loadConfig('identity', identityConfigSchema, {
      ...CONFIG_TEST_ENV,
      RAMPART_MODE: 'production',
      IDENTITY_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      IDENTITY_MAIL_FROM: 'no-reply@rampart.example',
    });
    // The config refuses the flag off in production; createMailer does not rely on that alone.
    const mailer = track(createMailer({ ...config, IDENTITY_SMTP_REQUIRE_TLS: false }));
    await expect(mailer.send({ to: 'ada@example.org', subject: 'x', text: 'y' })).rejects.toThrow(
      /STARTTLS/,
    );
    expect(smtp.received).toHaveLength(0);
  });
});
