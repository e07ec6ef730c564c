import type { ConnectionOptions } from 'node:tls';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from '@rampart/platform';
import { assertSendable, recipientDomain, type MailMessage, type Mailer } from './mailer.js';

export interface SmtpMailerOptions {
  /** `smtps://` (TLS from the first byte) or `smtp://` (STARTTLS); credentials in the userinfo. */
  url: string;
  /** The From header: `address` or `Name <address>`. */
  from: string;
  /** For `smtp://`: refuse to send unless the server upgrades with STARTTLS (always in production). */
  requireTLS: boolean;
  logger?: Logger;
  /** Extra TLS settings, e.g. a private CA; certificates are always verified. */
  tls?: ConnectionOptions;
}

/** Sends through an SMTP relay with nodemailer: the production mailer. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpMailerOptions) {
    const url = new URL(options.url);
    const secure = url.protocol === 'smtps:';
    this.transport = createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      requireTLS: !secure && options.requireTLS,
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      // Verification is not negotiable; TLS 1.2 is the oldest version still considered sound.
      tls: { minVersion: 'TLSv1.2', ...options.tls, rejectUnauthorized: true },
      // A stalled relay must not hold a registration request for nodemailer's default minutes.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      // nodemailer would otherwise log whole SMTP transcripts, bodies included, when debugging.
      logger: false,
      debug: false,
    });
  }

  async send(message: MailMessage): Promise<string> {
    assertSendable(message);
    const info = await this.transport.sendMail({
      from: this.options.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      ...(message.html === undefined ? {} : { html: message.html }),
      // Refuse nodemailer's conveniences that read files or URLs named in the message.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const messageId = String(info.messageId);
    this.options.logger?.info(
      { messageId, recipientDomain: recipientDomain(message.to) },
      'mail sent over SMTP',
    );
    return messageId;
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}
