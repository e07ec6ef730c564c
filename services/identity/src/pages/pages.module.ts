import { randomBytes } from 'node:crypto';
import { Module } from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import { AccountsModule } from '../accounts/accounts.module.js';
import { RegistrationController } from '../account-centre/registration.controller.js';
import type { IdentityConfig } from '../config/identity.config.js';
import { AssetsController } from './assets.controller.js';
import { CsrfProtection } from './csrf.js';
import { Invitations } from './invitations.js';
import { PageBodyLimit } from './page-body-limit.js';
import { PageErrorFilter } from './page-error.filter.js';
import { PAGES_CSRF, PageRenderer } from './page-renderer.js';

/** The secret keying CSRF tokens and invitations (IDENTITY_COOKIE_SECRET). */
const PAGES_SECRET = Symbol('rampart.identity.pages-secret');

/**
 * The server-rendered pages: sign-up and verification, the account centre and the sign-in and
 * consent interactions, with their rendering, CSRF protection and security headers.
 */
@Module({
  imports: [AccountsModule],
  controllers: [AssetsController, RegistrationController],
  providers: [
    {
      provide: PAGES_SECRET,
      inject: [SERVICE_CONFIG, LOGGER],
      useFactory: (config: IdentityConfig, logger: Logger) => {
        if (config.IDENTITY_COOKIE_SECRET) return config.IDENTITY_COOKIE_SECRET;
        // Production refuses to start without it (identity config); here forms simply stop
        // working across a restart.
        logger.warn(
          'IDENTITY_COOKIE_SECRET is unset: page forms are keyed by a per-process secret',
        );
        return randomBytes(32).toString('base64url');
      },
    },
    {
      provide: PAGES_CSRF,
      inject: [PAGES_SECRET, SERVICE_CONFIG],
      useFactory: (secret: string, config: IdentityConfig) =>
        new CsrfProtection(secret, new URL(config.RAMPART_ISSUER).origin),
    },
    {
      provide: Invitations,
      inject: [PAGES_SECRET],
      useFactory: (secret: string) => new Invitations(secret),
    },
    PageRenderer,
    PageErrorFilter,
    PageBodyLimit,
  ],
  exports: [Invitations],
})
export class PagesModule {}
