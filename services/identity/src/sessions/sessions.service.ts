import { Inject, Injectable } from '@nestjs/common';
import {
  OidcGrantEvents,
  SessionEvents,
  type SESSION_REVOCATION_REASONS,
  type SESSION_REVOKERS,
} from '@rampart/contracts';
import { LOGGER, Outbox, RampartError, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import type Provider from 'oidc-provider';
import { DataSource, type EntityManager } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { OidcProviderHost } from '../oidc/oidc-provider-host.js';
import { describeDevice } from './device.js';

/** A session as its holder (or an administrator) sees it. */
export interface SessionView {
  /** The provider session's public uid: what `revoke` takes. Never the cookie value. */
  id: string;
  /** "Firefox on Windows", from the user agent last seen; "Unknown device" when there is none. */
  device: string;
  /** The address last seen (behind the gateway: the address the gateway saw), if recorded. */
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  /** True for the session the request was made with (the `currentSessionUid` passed in). */
  current: boolean;
}

/** Who ends sessions: the holder (`actor` = `user:<accountId>`) or an administrator. */
export interface SessionActor {
  by: (typeof SESSION_REVOKERS)[number];
  /** As recorded in events: `user:<id>`, or `describePrincipal` of an administrator's token. */
  actor: string;
}

export type SessionEndReason = (typeof SESSION_REVOCATION_REASONS)[number];

/** The account holder acting on their own sessions. */
export function selfActor(accountId: string): SessionActor {
  return { by: 'self', actor: `user:${accountId}` };
}

/** A session that was ended, with what back-channel logout needs once the ending is committed. */
export interface EndedSession {
  uid: string;
  accountId: string;
  /** The clients the session had signed in to, with the session id (`sid`) each was given. */
  clients: { clientId: string; sid?: string }[];
}

/** Activity of a signed-in session as the provider saw it on a request. */
export interface SessionActivityInput {
  uid: string;
  accountId: string;
  ip: string | undefined;
  userAgent: string | undefined;
}

interface SessionPayload {
  accountId?: string;
  loginTs?: number;
  authorizations?: Record<string, { grantId?: string; sid?: string }>;
}

interface ListedRow {
  uid: string;
  login_ts: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: Date | null;
  last_seen_at: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** oidc-provider's uids are nanoids (21 of `A-Za-z0-9_-`); anything else names no session. */
const SESSION_UID = /^[A-Za-z0-9_-]{1,128}$/;
/** A session's record is refreshed at most this often: a write per request would be waste. */
const ACTIVITY_RESOLUTION_SECONDS = 60;
const MAX_USER_AGENT = 512;
const MAX_IP = 64;
/** How long an ended session's record outlives it, so an in-flight request cannot revive it. */
const TOMBSTONE_MINUTES = 10;
const LIVE_SESSION = `m.model = 'Session' AND (m.expires_at IS NULL OR m.expires_at > now())`;

export function sessionNotFound(): RampartError {
  return new RampartError('not-found', 'No such session.');
}

function accountNotFound(): RampartError {
  return new RampartError('not-found', 'No such account.');
}

/**
 * Sign-in sessions at the provider: which exist for an account (from the provider's own Session
 * documents, with the device and activity SessionActivity records), and ending them. Ending a
 * session deletes the provider's Session, every grant the session authorised with all the grant's
 * codes and tokens, and writes the events, in one transaction; back-channel logout follows once it
 * is committed. See docs/architecture/identity.md ("Sessions").
 */
@Injectable()
export class SessionsService {
  private readonly maxSeconds: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly host: OidcProviderHost,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.maxSeconds = config.IDENTITY_SESSION_MAX_SECONDS;
  }

  /**
   * The account's live sessions, most recently used first. `currentSessionUid` (from
   * `OidcProviderHost.signedInAccount`) marks the caller's own; administrators pass none.
   */
  async listForAccount(accountId: string, currentSessionUid?: string): Promise<SessionView[]> {
    if (!UUID.test(accountId)) return [];
    const rows = await this.dataSource.query<ListedRow[]>(
      `SELECT DISTINCT ON (m.uid) m.uid, m.payload ->> 'loginTs' AS login_ts,
              s.ip, s.user_agent, s.created_at, s.last_seen_at
         FROM oidc_models m
         LEFT JOIN sessions s ON s.uid = m.uid
        WHERE ${LIVE_SESSION} AND m.payload ->> 'accountId' = $1 AND m.uid IS NOT NULL
          AND s.revoked_at IS NULL
        ORDER BY m.uid`,
      [accountId],
    );
    const now = Date.now();
    return rows
      .map((row) => {
        const loginTs = Number(row.login_ts);
        const signedIn = Number.isFinite(loginTs) && loginTs > 0 ? new Date(loginTs * 1000) : null;
        const createdAt = row.created_at ?? signedIn ?? new Date(now);
        return {
          view: {
            id: row.uid,
            device: describeDevice(row.user_agent),
            ip: row.ip,
            createdAt,
            lastSeenAt: row.last_seen_at ?? createdAt,
            current: row.uid === currentSessionUid,
          },
          signedIn,
        };
      })
      .filter(({ signedIn }) => !signedIn || !this.isPastMaximum(signedIn.getTime() / 1000, now))
      .map(({ view }) => view)
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  }

  /** Whether a session signed in at `loginTs` (epoch seconds) is past the absolute timeout. */
  isPastMaximum(loginTs: number | undefined, now = Date.now()): boolean {
    return loginTs === undefined || (loginTs + this.maxSeconds) * 1000 <= now;
  }

  /** Ends one of the account's sessions; `not-found` (404) if it has no such session. */
  async revoke(accountId: string, sessionUid: string, actor: SessionActor): Promise<void> {
    if (!UUID.test(accountId) || !SESSION_UID.test(sessionUid)) throw sessionNotFound();
    const ended = await this.dataSource.transaction((transaction) =>
      this.end(transaction, accountId, { only: sessionUid }, actor, 'revoked'),
    );
    if (ended.length === 0) throw sessionNotFound();
    await this.notifyClients(ended);
  }

  /**
   * Ends every session of the account, but `exceptSessionUid` ("sign out everywhere else").
   * Resolves to the number of sessions ended.
   */
  async revokeAll(
    accountId: string,
    actor: SessionActor,
    exceptSessionUid?: string,
    reason: SessionEndReason = 'revoked',
  ): Promise<number> {
    if (!UUID.test(accountId)) return 0;
    const ended = await this.dataSource.transaction((transaction) =>
      this.end(transaction, accountId, { except: exceptSessionUid }, actor, reason),
    );
    await this.notifyClients(ended);
    return ended.length;
  }

  /**
   * `revokeAll` inside the caller's transaction, for a change that must end the sessions with it
   * or not at all (an account closed or disabled). Call `notifyClients` with the result once the
   * transaction has committed.
   */
  revokeAllWithin(
    transaction: EntityManager,
    accountId: string,
    actor: SessionActor,
    reason: SessionEndReason,
  ): Promise<EndedSession[]> {
    return this.end(transaction, accountId, {}, actor, reason);
  }

  /** Whether the account exists (for the administration API's 404s). */
  async assertAccountExists(accountId: string): Promise<void> {
    if (!UUID.test(accountId)) throw accountNotFound();
    const [row] = await this.dataSource.query<unknown[]>(`SELECT 1 FROM accounts WHERE id = $1`, [
      accountId,
    ]);
    if (!row) throw accountNotFound();
  }

  /**
   * OpenID Connect back-channel logout to every client of the ended sessions that registered a
   * `backchannel_logout_uri`, through the provider's own implementation (a signed logout token
   * with `sub` and `sid`). Best effort: the sessions are already gone; a client that cannot be
   * reached is logged, not retried. The provider refuses to call special-use addresses (loopback,
   * private networks: its SSRF protection), so only clients on public addresses are told.
   */
  async notifyClients(
    ended: readonly EndedSession[],
    provider: Provider | undefined = this.host.enabled ? this.host.provider : undefined,
  ): Promise<void> {
    if (!provider || ended.length === 0) return;
    await Promise.all(
      ended.flatMap((session) =>
        session.clients.map(async ({ clientId, sid }) => {
          try {
            const client = (await provider.Client.find(clientId)) as
              | (InstanceType<typeof provider.Client> & {
                  backchannelLogout(sub: string, sid?: string): Promise<void>;
                })
              | undefined;
            if (!client?.backchannelLogoutUri) return;
            await client.backchannelLogout(session.accountId, sid);
            this.logger.info(
              { clientId, sessionUid: session.uid },
              'back-channel logout delivered',
            );
          } catch (error) {
            this.logger.warn(
              { err: error, clientId, sessionUid: session.uid },
              'back-channel logout could not be delivered',
            );
          }
        }),
      ),
    );
  }

  /**
   * Records that a signed-in session was used (by SessionActivity, after each provider request
   * that loaded the session): device, address and time, refreshed at most once a minute. A
   * session whose record says it was revoked is ended again: it was saved by a request that
   * loaded it before the revocation and finished after it.
   */
  async recordActivity(activity: SessionActivityInput): Promise<'recorded' | 'fresh' | 'revoked'> {
    if (!UUID.test(activity.accountId) || !SESSION_UID.test(activity.uid)) return 'fresh';
    const [record] = await this.dataSource.query<
      { account_id: string; revoked: boolean; fresh: boolean }[]
    >(
      `SELECT account_id, revoked_at IS NOT NULL AS revoked,
              last_seen_at > now() - make_interval(secs => $2) AS fresh
         FROM sessions WHERE uid = $1`,
      [activity.uid, ACTIVITY_RESOLUTION_SECONDS],
    );
    if (record?.revoked) {
      const ended = await this.dataSource.transaction((transaction) =>
        this.deleteSessions(transaction, `uid = $1`, [activity.uid]),
      );
      this.logger.warn(
        { sessionUid: activity.uid, accountId: activity.accountId },
        'a revoked session was saved again by a request in flight; ended it again',
      );
      await this.notifyClients(ended);
      return 'revoked';
    }
    if (record?.fresh && record.account_id === activity.accountId) return 'fresh';
    await this.dataSource.query(
      `INSERT INTO sessions (uid, account_id, ip, user_agent)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (uid) DO UPDATE SET
         ip = EXCLUDED.ip,
         user_agent = EXCLUDED.user_agent,
         last_seen_at = now(),
         -- The same browser session signed in as someone else: a new session for them.
         created_at = CASE WHEN sessions.account_id = EXCLUDED.account_id
                           THEN sessions.created_at ELSE now() END,
         account_id = EXCLUDED.account_id
       WHERE sessions.revoked_at IS NULL`,
      [
        activity.uid,
        activity.accountId,
        activity.ip ? activity.ip.slice(0, MAX_IP) : null,
        activity.userAgent ? activity.userAgent.slice(0, MAX_USER_AGENT) : null,
      ],
    );
    return 'recorded';
  }

  /**
   * Deletes up to `batchSize` records whose provider session no longer exists (signed out,
   * expired, revoked a while ago); returns how many went.
   */
  async purgeEndedRecords(batchSize: number): Promise<number> {
    const [, deleted] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM sessions WHERE uid IN (
         SELECT s.uid FROM sessions s
          WHERE coalesce(s.revoked_at, s.last_seen_at) < now() - make_interval(mins => $2)
            AND NOT EXISTS (SELECT 1 FROM oidc_models m WHERE ${LIVE_SESSION} AND m.uid = s.uid)
          LIMIT $1
          FOR UPDATE SKIP LOCKED)`,
      [batchSize, TOMBSTONE_MINUTES],
    );
    return deleted;
  }

  private async end(
    transaction: EntityManager,
    accountId: string,
    which: { only?: string; except?: string | undefined },
    actor: SessionActor,
    reason: SessionEndReason,
  ): Promise<EndedSession[]> {
    const ended = await this.deleteSessions(
      transaction,
      `payload ->> 'accountId' = $1
         AND ($2::text IS NULL OR uid = $2)
         AND ($3::text IS NULL OR uid IS DISTINCT FROM $3)`,
      [accountId, which.only ?? null, which.except ?? null],
      // A person ending sessions (one, or all others after a password change) revokes their
      // grants as sessions; an account closed or disabled revokes them as such.
      reason === 'revoked' || reason === 'password-changed'
        ? 'session-revoked'
        : 'account-disabled',
    );
    for (const session of ended) {
      await this.outbox.write(transaction, SessionEvents.revoked, {
        subject: accountId,
        data: {
          accountId,
          sessionUid: session.uid,
          by: actor.by,
          actor: actor.actor.slice(0, 1100),
          reason,
          grantsRevoked: session.grantsRevoked,
        },
      });
    }
    // A tombstone per ended session: SessionActivity ends it again if a request in flight saves it.
    await transaction.query(
      `INSERT INTO sessions (uid, account_id, revoked_at)
       SELECT uid, $2, now() FROM unnest($1::text[]) AS uid
        WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2)
       ON CONFLICT (uid) DO UPDATE SET revoked_at = now()`,
      [ended.map((session) => session.uid), accountId],
    );
    return ended.map(({ uid, clients }) => ({ uid, accountId, clients }));
  }

  /**
   * Deletes the Session rows matching `where` (expired ones included: they are dead anyway), then
   * every grant they name with the grant's codes and tokens; with `grantReason`, writes an
   * `oidc-grant.revoked` event for each grant that still existed.
   */
  private async deleteSessions(
    transaction: EntityManager,
    where: string,
    parameters: unknown[],
    grantReason?: 'session-revoked' | 'account-disabled',
  ): Promise<(EndedSession & { grantsRevoked: number })[]> {
    const [rows] = await transaction.query<[{ uid: string; payload: SessionPayload }[], number]>(
      `DELETE FROM oidc_models WHERE model = 'Session' AND uid IS NOT NULL AND ${where}
       RETURNING uid, payload`,
      parameters,
    );
    const sessions = new Map<string, EndedSession & { grantIds: Set<string> }>();
    for (const { uid, payload } of rows) {
      const session = sessions.get(uid) ?? {
        uid,
        accountId: payload.accountId ?? '',
        clients: [],
        grantIds: new Set<string>(),
      };
      for (const [clientId, authorization] of Object.entries(payload.authorizations ?? {})) {
        if (!session.clients.some((client) => client.clientId === clientId)) {
          session.clients.push({
            clientId,
            ...(typeof authorization.sid === 'string' ? { sid: authorization.sid } : {}),
          });
        }
        if (typeof authorization.grantId === 'string') session.grantIds.add(authorization.grantId);
      }
      sessions.set(uid, session);
    }

    const result: (EndedSession & { grantsRevoked: number })[] = [];
    for (const { grantIds, ...session } of sessions.values()) {
      const ids = [...grantIds];
      // Codes and tokens of the grants (the rows `revokeByGrantId` deletes), then the grants.
      await transaction.query(`DELETE FROM oidc_models WHERE grant_id = ANY($1::text[])`, [ids]);
      const [grants] = await transaction.query<
        [{ id: string; client_id: string | null }[], number]
      >(
        `DELETE FROM oidc_models WHERE model = 'Grant' AND id = ANY($1::text[])
         RETURNING id, payload ->> 'clientId' AS client_id`,
        [ids],
      );
      if (grantReason) {
        for (const grant of grants) {
          await this.outbox.write(transaction, OidcGrantEvents.revoked, {
            subject: grant.id,
            data: {
              grantId: grant.id,
              ...(grant.client_id ? { clientId: grant.client_id } : {}),
              ...(session.accountId ? { accountId: session.accountId } : {}),
              reason: grantReason,
            },
          });
        }
      }
      result.push({ ...session, grantsRevoked: grants.length });
    }
    return result;
  }
}
