import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { LOGGER, type Logger } from '@rampart/platform';
import { OidcProviderHost, type ProviderMiddleware } from '../oidc/oidc-provider-host.js';
import { SessionsService } from './sessions.service.js';

/**
 * A provider middleware that records each signed-in session's device and activity once the
 * provider has handled a request that loaded the session (authorization, its resume after sign-in,
 * logout, device flow). It runs after the provider saved the session, so the first request after
 * a sign-in completes creates the record. A failure to record is logged, never turned into an
 * error for the person signing in. A session past its absolute timeout is ended instead.
 */
export function sessionActivityMiddleware(
  sessions: SessionsService,
  logger: Logger,
): ProviderMiddleware {
  return async (ctx, next) => {
    await next();
    const session = (ctx as KoaContextWithOIDC).oidc?.session as
      | {
          uid?: string;
          accountId?: string;
          loginTs?: number;
          destroyed?: boolean;
          destroy(): Promise<void>;
        }
      | undefined;
    if (!session?.accountId || !session.uid || session.destroyed) return;
    if (sessions.isPastMaximum(session.loginTs)) {
      // The provider re-saves a session on every use with at least 1 second to live (its TTL
      // cannot be 0), so a session used non-stop would outlive the absolute timeout one second at
      // a time. It ends here instead, right after the request that found it past its maximum.
      try {
        await session.destroy();
      } catch (error) {
        logger.warn({ err: error, sessionUid: session.uid }, 'an expired session was not ended');
      }
      return;
    }
    const userAgent = ctx.get('user-agent');
    try {
      await sessions.recordActivity({
        uid: session.uid,
        accountId: session.accountId,
        ip: ctx.ip || undefined,
        userAgent: userAgent || undefined,
      });
    } catch (error) {
      logger.warn({ err: error, sessionUid: session.uid }, 'session activity was not recorded');
    }
  };
}

/** Installs the activity middleware on the provider (and on every rebuilt provider). */
@Injectable()
export class SessionActivity implements OnModuleInit {
  constructor(
    private readonly host: OidcProviderHost,
    private readonly sessions: SessionsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.host.use(sessionActivityMiddleware(this.sessions, this.logger));
  }
}
