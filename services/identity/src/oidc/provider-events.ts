import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import {
  OidcClientEvents,
  OidcGrantEvents,
  OidcRequestEvents,
  type EventDefinition,
} from '@rampart/contracts';
import type { Logger, Outbox } from '@rampart/platform';
import type { DataSource } from 'typeorm';

/** The provider's `<endpoint>.error` events: each refusal becomes one `oidc-request.refused`. */
const ERROR_EVENTS = [
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
  'registration_create.error',
  'registration_read.error',
  'registration_update.error',
  'registration_delete.error',
  'end_session.error',
  'end_session_confirm.error',
  'pushed_authorization_request.error',
  'device_authorization.error',
  'code_verification.error',
  'backchannel.error',
  'jwks.error',
  'discovery.error',
] as const;

/** The message oidc-provider gives a second use of a rotated refresh token. */
const REFRESH_TOKEN_REUSE = 'refresh token already used';

interface OAuthError {
  error?: string;
  error_description?: string;
  status?: number;
  statusCode?: number;
}

function requestContext(ctx: KoaContextWithOIDC) {
  const userAgent = ctx.get('user-agent');
  return {
    ip: (ctx.ip || 'unknown').slice(0, 64),
    ...(userAgent ? { userAgent: userAgent.slice(0, 1024) } : {}),
  };
}

function clientIdOf(ctx: KoaContextWithOIDC): string | undefined {
  const id = ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.['client_id'];
  return typeof id === 'string' && id.length > 0 && id.length <= 1024 ? id : undefined;
}

/**
 * Turns the provider's own events into outbox events: client registrations, revoked grants,
 * refresh-token reuse, sign-outs and every refused request. The provider has already answered
 * when these fire, so each event is written in its own transaction; a failure is logged loudly
 * (the answer cannot be taken back).
 */
export function recordProviderEvents(
  provider: Provider,
  dependencies: { dataSource: DataSource; outbox: Outbox; logger: Logger },
): void {
  const { dataSource, outbox, logger } = dependencies;
  // The typings list only some of the events the provider emits (`<endpoint>.error` are missing).
  const events = provider as unknown as {
    on(event: string, listener: (ctx: KoaContextWithOIDC, ...rest: never[]) => void): void;
  };
  const write = (event: EventDefinition, subject: string, data: Record<string, unknown>) => {
    dataSource
      .transaction((transaction) => outbox.write(transaction, event, { subject, data }))
      .catch((error: unknown) =>
        logger.error(
          { err: error, event: event.type },
          'a provider security event was not recorded',
        ),
      );
  };

  const revocationReason = (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc?.route === 'token') return 'refresh-token-reuse';
    if (ctx.oidc?.route === 'end_session_confirm' || ctx.oidc?.route === 'end_session')
      return 'logout';
    return 'token-revoked';
  };

  events.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const clientId = clientIdOf(ctx);
    const accountId = ctx.oidc?.session?.accountId ?? ctx.oidc?.entities.RefreshToken?.accountId;
    write(OidcGrantEvents.revoked, grantId, {
      grantId,
      ...(clientId ? { clientId } : {}),
      ...(accountId ? { accountId } : {}),
      reason: revocationReason(ctx),
    });
  });

  for (const name of ERROR_EVENTS) {
    events.on(name, (ctx: KoaContextWithOIDC, error: OAuthError) => {
      const clientId = clientIdOf(ctx);
      const context = requestContext(ctx);
      if (name === 'grant.error' && error.error_description === REFRESH_TOKEN_REUSE) {
        const token = ctx.oidc?.entities.RefreshToken;
        if (token?.grantId && clientId) {
          write(OidcGrantEvents.refreshTokenReuseDetected, token.grantId, {
            grantId: token.grantId,
            clientId,
            ...(token.accountId ? { accountId: token.accountId } : {}),
            ...context,
          });
        }
      }
      write(OidcRequestEvents.refused, clientId ?? 'unknown', {
        endpoint: name.slice(0, -'.error'.length),
        error: (error.error ?? 'server_error').slice(0, 64),
        ...(error.error_description ? { description: error.error_description.slice(0, 512) } : {}),
        ...(clientId ? { clientId } : {}),
        ...context,
      });
    });
  }

  events.on('server_error', (_ctx: KoaContextWithOIDC, error: Error) => {
    logger.error({ err: error }, 'the OpenID provider failed a request');
  });

  const clientEvent =
    (event: EventDefinition) =>
    (
      ctx: KoaContextWithOIDC,
      client?: { clientId: string; grantTypes?: string[]; tokenEndpointAuthMethod?: string },
    ) => {
      const clientId = client?.clientId ?? clientIdOf(ctx);
      if (!clientId) return;
      write(event, clientId, {
        clientId,
        via: 'dynamic-registration',
        ...(event === OidcClientEvents.registered
          ? {
              grantTypes: client?.grantTypes ?? [],
              tokenEndpointAuthMethod: client?.tokenEndpointAuthMethod ?? 'unknown',
            }
          : {}),
        ...requestContext(ctx),
      });
    };
  events.on('registration_create.success', clientEvent(OidcClientEvents.registered));
  events.on('registration_update.success', clientEvent(OidcClientEvents.updated));
  events.on('registration_delete.success', clientEvent(OidcClientEvents.deleted));

  events.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const clientId = clientIdOf(ctx);
    const accountId = ctx.oidc?.session?.accountId;
    write(OidcRequestEvents.loggedOut, accountId ?? clientId ?? 'unknown', {
      ...(accountId ? { accountId } : {}),
      ...(clientId ? { clientId } : {}),
      ...requestContext(ctx),
    });
  });
}
