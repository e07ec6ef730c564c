import { Module } from '@nestjs/common';
import { OidcModule } from '../oidc/oidc.module.js';
import { SessionActivity } from './session-activity.js';
import { SessionRecordsPurger } from './session-records-purger.js';
import { SessionsAdminController } from './sessions-admin.controller.js';
import { SessionsService } from './sessions.service.js';

/**
 * Sign-in sessions: their device and activity records, listing and revocation (`SessionsService`,
 * exported for the account centre and account lifecycle), and the administration API.
 */
@Module({
  imports: [OidcModule],
  controllers: [SessionsAdminController],
  providers: [SessionsService, SessionActivity, SessionRecordsPurger],
  exports: [SessionsService],
})
export class SessionsModule {}
