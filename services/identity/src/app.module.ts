import { Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module.js';
import { MailModule } from './mail/mail.module.js';
import { OidcStorageModule } from './oidc/oidc-storage.module.js';
import { PagesModule } from './pages/pages.module.js';
import { PasswordsModule } from './passwords/passwords.module.js';

/** The identity service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({ imports: [OidcStorageModule, PasswordsModule, MailModule, AccountsModule, PagesModule] })
export class IdentityModule {}
