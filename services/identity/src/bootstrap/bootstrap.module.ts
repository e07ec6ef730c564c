import { Module } from '@nestjs/common';
import { OidcModule } from '../oidc/oidc.module.js';
import { PasswordsModule } from '../passwords/passwords.module.js';
import { BootstrapService } from './bootstrap.service.js';

/** The first start's administrator, admin client and initial access token. */
@Module({ imports: [OidcModule, PasswordsModule], providers: [BootstrapService] })
export class BootstrapModule {}
