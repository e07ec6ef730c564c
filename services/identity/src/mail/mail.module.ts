import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import type { IdentityConfig } from '../config/identity.config.js';
import { LocalMailbox } from './local-mailbox.js';
import { DEVELOPMENT_MAIL_FROM, type MailConfig } from './mail.config.js';
import { MAILER, type Mailer } from './mailer.js';
import { SmtpMailer } from './smtp-mailer.js';

/**
 * SMTP when IDENTITY_SMTP_URL is set, otherwise the local mailbox (the config has already refused
 * that combination in production mode).
 */
export function createMailer(
  config: MailConfig & { RAMPART_MODE: 'development' | 'production' },
  logger?: Logger,
): Mailer {
  const from = config.IDENTITY_MAIL_FROM ?? DEVELOPMENT_MAIL_FROM;
  if (config.IDENTITY_SMTP_URL) {
    return new SmtpMailer({
      url: config.IDENTITY_SMTP_URL,
      from,
      requireTLS: config.RAMPART_MODE === 'production' || config.IDENTITY_SMTP_REQUIRE_TLS,
      ...(logger ? { logger } : {}),
    });
  }
  return new LocalMailbox(config.IDENTITY_MAILBOX_DIR, from, logger);
}

/** Provides MAILER, the mailer the configuration selects, and closes it on shutdown. */
@Module({
  providers: [
    {
      provide: MAILER,
      inject: [SERVICE_CONFIG, LOGGER],
      useFactory: (config: IdentityConfig, logger: Logger) => createMailer(config, logger),
    },
  ],
  exports: [MAILER],
})
export class MailModule implements OnApplicationShutdown {
  constructor(@Inject(MAILER) private readonly mailer: Mailer) {}

  async onApplicationShutdown(): Promise<void> {
    await this.mailer.close();
  }
}
