import { Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module.js';
import { BootstrapModule } from './bootstrap/bootstrap.module.js';
import { MailModule } from './mail/mail.module.js';
import { OidcModule } from './oidc/oidc.module.js';
import { PagesModule, ProviderPagesModule } from './pages/pages.module.js';
import { PasswordsModule } from './passwords/passwords.module.js';
import { ScimModule } from './scim/scim.module.js';
import { SessionsModule } from './sessions/sessions.module.js';

/** The identity service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({
  imports: [
    OidcModule,
    PasswordsModule,
    MailModule,
    AccountsModule,
    BootstrapModule,
    ScimModule,
    SessionsModule,
    PagesModule,
    ProviderPagesModule,
  ],
})
export class IdentityModule {}
