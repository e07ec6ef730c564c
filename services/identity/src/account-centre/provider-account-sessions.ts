import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OidcProviderHost } from '../oidc/oidc-provider-host.js';
import type { AccountSessions, AccountSessionSummary } from '../pages/account-sessions.js';

interface SessionRow {
  uid: string;
  payload: { accountId?: string; loginTs?: number; authorizations?: Record<string, unknown> };
  expires_at: Date | null;
}

/**
 * The account's sessions as the provider stores them (`oidc_models`, model `Session`). Ending
 * one destroys its grants (the applications' tokens with them) and then the session itself,
 * as the provider's own sign-out does.
 */
@Injectable()
export class ProviderAccountSessions implements AccountSessions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly host: OidcProviderHost,
  ) {}

  async list(accountId: string): Promise<AccountSessionSummary[]> {
    const rows = await this.dataSource.query<SessionRow[]>(
      `SELECT uid, payload, expires_at FROM oidc_models
        WHERE model = 'Session' AND payload->>'accountId' = $1
          AND (expires_at IS NULL OR expires_at > now())
        ORDER BY (payload->>'loginTs')::bigint DESC NULLS LAST
        LIMIT 100`,
      [accountId],
    );
    return rows.map((row) => ({
      uid: row.uid,
      signedInAt: new Date((row.payload.loginTs ?? 0) * 1000),
      expiresAt: row.expires_at ?? undefined,
      applications: Object.keys(row.payload.authorizations ?? {}),
    }));
  }

  async revoke(accountId: string, uid: string): Promise<boolean> {
    const { Session, Grant, AccessToken } = this.host.provider;
    const session = await Session.findByUid(uid);
    if (!session || session.accountId !== accountId) return false;
    for (const authorization of Object.values(session.authorizations ?? {})) {
      const grantId = (authorization as { grantId?: string }).grantId;
      if (!grantId) continue;
      await (await Grant.find(grantId))?.destroy();
      // The PostgreSQL adapter deletes every model's rows of a grant at once (codes and tokens).
      await AccessToken.adapter.revokeByGrantId(grantId);
    }
    await session.destroy();
    return true;
  }
}
