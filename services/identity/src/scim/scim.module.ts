import { Module } from '@nestjs/common';
import { PasswordsModule } from '../passwords/passwords.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ScimDiscoveryController } from './scim-discovery.controller.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimGroupsController, ScimUsersController } from './scim-resources.controller.js';
import { ScimUsersService } from './scim-users.service.js';
import { ScimHttp } from './scim.http.js';

/** SCIM 2.0 provisioning at /scim/v2 (RFC 7643/7644): Users, Groups and discovery. */
@Module({
  imports: [PasswordsModule, SessionsModule],
  controllers: [ScimUsersController, ScimGroupsController, ScimDiscoveryController],
  providers: [ScimUsersService, ScimGroupsService, ScimHttp],
})
export class ScimModule {}
