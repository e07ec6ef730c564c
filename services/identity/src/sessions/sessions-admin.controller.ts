import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import {
  AllowAccessTokens,
  CurrentPrincipal,
  describePrincipal,
  type Principal,
} from '@rampart/platform';
import type { z } from 'zod';
import type { adminSessionView, revokedSessionsView } from './sessions-admin.routes.js';
import { SessionsService, type SessionActor } from './sessions.service.js';

/**
 * The scope an administrator's token needs. Identity accepts one access-token audience (its SCIM
 * API, `${issuer}/scim/v2`), and ending a person's sessions belongs with provisioning them (SCIM
 * deactivation ends them too), so the SCIM scope covers it (ADR 0020).
 */
export const SESSIONS_ADMIN_SCOPE = 'scim';

// Typed from the OpenAPI document's schemas, so the document cannot drift from the answers.
type SessionJson = z.infer<typeof adminSessionView>;

/**
 * Administration of a person's sign-in sessions: `GET` lists them, `DELETE` ends one or all
 * (each with every grant it authorised, and back-channel logout to the clients).
 */
@Controller('account/v1/admin/accounts/:accountId/sessions')
@AllowAccessTokens(SESSIONS_ADMIN_SCOPE)
export class SessionsAdminController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  async list(@Param('accountId') accountId: string): Promise<{ sessions: SessionJson[] }> {
    await this.sessions.assertAccountExists(accountId);
    const sessions = await this.sessions.listForAccount(accountId);
    return {
      sessions: sessions.map((session) => ({
        id: session.id,
        device: session.device,
        ip: session.ip,
        createdAt: session.createdAt.toISOString(),
        lastSeenAt: session.lastSeenAt.toISOString(),
      })),
    };
  }

  @Delete()
  @HttpCode(200)
  async revokeAll(
    @Param('accountId') accountId: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<z.infer<typeof revokedSessionsView>> {
    await this.sessions.assertAccountExists(accountId);
    return { revoked: await this.sessions.revokeAll(accountId, admin(caller)) };
  }

  @Delete(':sessionUid')
  @HttpCode(204)
  async revoke(
    @Param('accountId') accountId: string,
    @Param('sessionUid') sessionUid: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<void> {
    await this.sessions.assertAccountExists(accountId);
    await this.sessions.revoke(accountId, sessionUid, admin(caller));
  }
}

function admin(caller: Principal): SessionActor {
  return { by: 'admin', actor: describePrincipal(caller) };
}
