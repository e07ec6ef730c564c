import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module.js';
import { PasswordsModule } from '../passwords/passwords.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AccountsService } from './accounts.service.js';

/** Accounts: registration, e-mail verification, password sign-in, password change, deletion request. */
@Module({
  imports: [PasswordsModule, MailModule, SessionsModule],
  providers: [AccountsService],
  exports: [AccountsService],
})
export class AccountsModule {}
