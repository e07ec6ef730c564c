import { randomBytes } from 'node:crypto';
import { Global, Module } from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountCentreController } from '../account-centre/account-centre.controller.js';
import { RegistrationController } from '../account-centre/registration.controller.js';
import { InteractionsController } from '../interactions/interactions.controller.js';
import { LOGIN_STEPS, type LoginStep } from '../interactions/login-steps.js';
import { PasswordStep } from '../interactions/password.step.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { PROVIDER_PAGES } from '../oidc/oidc-provider-host.js';
import type { IdentityConfig } from '../config/identity.config.js';
import { AssetsController } from './assets.controller.js';
import { CsrfProtection } from './csrf.js';
import { Invitations } from './invitations.js';
import { PageBodyLimit } from './page-body-limit.js';
import { PageErrorFilter } from './page-error.filter.js';
import { PAGES_CSRF, PageRenderer } from './page-renderer.js';
import { providerPages } from './provider-pages.js';

/** The secret keying CSRF tokens and invitations (IDENTITY_COOKIE_SECRET). */
const PAGES_SECRET = Symbol('rampart.identity.pages-secret');

/**
 * The server-rendered pages: sign-up and verification, the account centre and the sign-in and
 * consent interactions, with their rendering, CSRF protection and security headers.
 */
@Module({
  imports: [AccountsModule, OidcModule, SessionsModule],
  controllers: [
    AssetsController,
    RegistrationController,
    AccountCentreController,
    InteractionsController,
  ],
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
    PasswordStep,
    {
      // The sign-in, in order. Multi-factor, risk and recovery steps are added to this list.
      provide: LOGIN_STEPS,
      inject: [PasswordStep],
      useFactory: (password: PasswordStep): LoginStep[] => [password],
    },
  ],
  exports: [Invitations],
})
export class PagesModule {}

/**
 * The pages oidc-provider renders itself, for OidcProviderHost (which injects PROVIDER_PAGES
 * optionally). Global, because the provider's module cannot import the pages' module: the pages
 * need the provider.
 */
@Global()
@Module({
  providers: [{ provide: PROVIDER_PAGES, useValue: providerPages }],
  exports: [PROVIDER_PAGES],
})
export class ProviderPagesModule {}
