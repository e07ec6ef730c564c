import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AccountEvents, LoginEvents, type LoginFailureReason } from '@rampart/contracts';
import {
  LOGGER,
  Outbox,
  SERVICE_CONFIG,
  ValidationFailedError,
  type Logger,
} from '@rampart/platform';
import { DataSource, type EntityManager } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { MAILER, isMailAddress, recipientDomain, type Mailer } from '../mail/mailer.js';
import { PasswordHasher } from '../passwords/password-hasher.js';
import { PasswordPolicy } from '../passwords/password-policy.js';
import { selfActor, SessionsService, type EndedSession } from '../sessions/sessions.service.js';
import {
  accountExists,
  accountNotFound,
  passwordRefused,
  profileChangedMeanwhile,
  verificationLinkInvalid,
  wrongCurrentPassword,
} from './accounts.errors.js';

export type AccountStatus = 'ACTIVE' | 'DISABLED' | 'DELETION_REQUESTED';

/** An account as callers see it: never its password hash. */
export interface Account {
  id: string;
  username: string;
  email: string;
  emailVerified: boolean;
  status: AccountStatus;
  createdAt: Date;
}

/** Who is signing in from where, for the login events. */
export interface LoginContext {
  ip: string;
  userAgent?: string | undefined;
}

/** What the account holder edits in the account centre; `null` means not given. */
export interface Profile {
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
}

export type ProfileAttribute = keyof Profile;
const PROFILE_COLUMNS: Record<ProfileAttribute, string> = {
  givenName: 'given_name',
  familyName: 'family_name',
  displayName: 'display_name',
};

export type AuthenticationResult =
  { ok: true; account: Account } | { ok: false; reason: LoginFailureReason };

interface AccountRow {
  id: string;
  username: string;
  email: string;
  email_verified_at: Date | null;
  password_hash: string;
  status: AccountStatus;
  created_at: Date;
}

/** 3 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
/** 32 random bytes in base64url without padding. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const UNIQUE_VIOLATION = '23505';
/** How long a verification link works: a day covers slow mail and the next morning. */
const VERIFICATION_TTL_HOURS = 24;

const sha256 = (token: string) => createHash('sha256').update(token).digest();

/**
 * Accounts: registration with e-mail verification, password sign-in and the account holder's own
 * changes. Every state change writes its event through the outbox in the same transaction.
 * Passwords, hashes and verification tokens never reach an event or a log line.
 */
@Injectable()
export class AccountsService {
  private readonly issuer: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly sessions: SessionsService,
  ) {
    this.issuer = config.RAMPART_ISSUER;
  }

  /**
   * Creates an account and mails a verification link. The mail is handed to the mailer inside the
   * transaction, last: if it cannot be sent, no account is left behind that nobody can verify.
   */
  async register(input: { username: string; email: string; password: string }): Promise<Account> {
    const username = input.username.trim();
    const email = input.email.trim().toLowerCase();
    const issues: { path: string; message: string }[] = [];
    if (!USERNAME.test(username)) {
      issues.push({
        path: 'username',
        message:
          'must be 3 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      });
    }
    if (!isMailAddress(email)) issues.push({ path: 'email', message: 'must be an e-mail address' });
    if (issues.length > 0) throw new ValidationFailedError(issues);
    const verdict = this.policy.check(input.password, [username, email]);
    if (!verdict.ok) throw passwordRefused(verdict);

    const passwordHash = await this.hasher.hash(input.password);
    const id = randomUUID();
    const token = randomBytes(32).toString('base64url');
    try {
      const row = await this.dataSource.transaction(async (transaction) => {
        const [inserted] = await transaction.query<AccountRow[]>(
          `INSERT INTO accounts (id, username, email, password_hash)
           VALUES ($1, $2, $3, $4)
           RETURNING id, username, email, email_verified_at, password_hash, status, created_at`,
          [id, username, email, passwordHash],
        );
        await transaction.query(
          `INSERT INTO email_verifications (token_hash, account_id, expires_at)
           VALUES ($1, $2, now() + make_interval(hours => $3))`,
          [sha256(token), id, VERIFICATION_TTL_HOURS],
        );
        await this.outbox.write(transaction, AccountEvents.registered, {
          subject: id,
          data: { accountId: id, username, emailDomain: recipientDomain(email) },
        });
        await this.mailer.send(this.verificationMail(username, email, token));
        return inserted!;
      });
      this.logger.info({ accountId: id }, 'account registered');
      return toAccount(row);
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw accountExists();
      throw error;
    }
  }

  /**
   * Consumes a verification token and marks the address verified. The token is looked up by its
   * SHA-256: the index compares digests, so lookup timing says nothing about valid tokens.
   */
  async verifyEmail(token: string): Promise<Account> {
    if (!TOKEN.test(token)) throw verificationLinkInvalid();
    const row = await this.dataSource.transaction(async (transaction) => {
      // (UPDATE ... RETURNING answers [rows, count] through TypeORM's pg driver.)
      // Consuming in one conditional UPDATE makes the token single use even under concurrent clicks.
      const [[consumed]] = await transaction.query<[{ account_id: string }[], number]>(
        `UPDATE email_verifications SET consumed_at = now()
          WHERE token_hash = $1 AND consumed_at IS NULL AND expires_at > now()
          RETURNING account_id`,
        [sha256(token)],
      );
      if (!consumed) throw verificationLinkInvalid();
      const [updated] = await transaction.query<[AccountRow[], number]>(
        `UPDATE accounts SET email_verified_at = now(), updated_at = now()
          WHERE id = $1
          RETURNING id, username, email, email_verified_at, password_hash, status, created_at`,
        [consumed.account_id],
      );
      await this.outbox.write(transaction, AccountEvents.emailVerified, {
        subject: consumed.account_id,
        data: { accountId: consumed.account_id },
      });
      return updated[0]!;
    });
    return toAccount(row);
  }

  /**
   * Checks a username and password. An unknown username costs the same Argon2 work as a known one
   * (verifyOrDecoy), and a disabled or closing account is only reported once the password proved
   * right, so the answer's timing and reason reveal nothing to someone without the password.
   * A correct password hashed with outdated parameters is rehashed on the way.
   * Unverified e-mail does not block sign-in here: `account.emailVerified` lets the caller decide.
   */
  async authenticate(
    usernameInput: string,
    password: string,
    context: LoginContext,
  ): Promise<AuthenticationResult> {
    const username = usernameInput.trim();
    // No username holds NUL (PostgreSQL text cannot), and asking for one would fail the query:
    // such a name is simply unknown, decoy hash and failure event included.
    const [row] =
      username.length > 0 && username.length <= 64 && !username.includes('\u0000')
        ? await this.dataSource.query<AccountRow[]>(
            `SELECT id, username, email, email_verified_at, password_hash, status, created_at
               FROM accounts WHERE lower(username) = lower($1)`,
            [username],
          )
        : [];
    const matches = await this.hasher.verifyOrDecoy(row?.password_hash, password);
    const reason: LoginFailureReason | undefined = !row
      ? 'unknown-user'
      : !matches
        ? 'bad-password'
        : row.status === 'DISABLED'
          ? 'disabled'
          : row.status === 'DELETION_REQUESTED'
            ? 'deletion-requested'
            : undefined;
    const attempt = {
      ip: context.ip,
      ...(context.userAgent === undefined ? {} : { userAgent: context.userAgent.slice(0, 1024) }),
    };

    await this.dataSource.transaction(async (transaction) => {
      if (reason !== undefined) {
        await this.outbox.write(transaction, LoginEvents.failed, {
          subject: row?.id ?? 'unknown',
          data: { ...(row ? { accountId: row.id } : {}), reason, ...attempt },
        });
        return;
      }
      if (this.hasher.needsRehash(row!.password_hash))
        await this.rehash(transaction, row!, password);
      await this.outbox.write(transaction, LoginEvents.succeeded, {
        subject: row!.id,
        data: { accountId: row!.id, ...attempt },
      });
    });
    if (reason !== undefined) {
      this.logger.info({ accountId: row?.id, reason, ip: context.ip }, 'login failed');
      return { ok: false, reason };
    }
    return { ok: true, account: toAccount(row!) };
  }

  /** Changes the password after checking the current one and the policy for the new one. */
  async changePassword(accountId: string, current: string, next: string): Promise<void> {
    const row = await this.find(accountId);
    if (!row) throw accountNotFound();
    if (!(await this.hasher.verify(row.password_hash, current))) throw wrongCurrentPassword();
    const verdict = this.policy.check(next, [row.username, row.email]);
    if (!verdict.ok) throw passwordRefused(verdict, 'newPassword');
    const passwordHash = await this.hasher.hash(next);
    await this.dataSource.transaction(async (transaction) => {
      // Compare-and-set on the old hash: a concurrent change wins, this one fails as wrong password.
      const [, changed] = await transaction.query<[unknown[], number]>(
        `UPDATE accounts SET password_hash = $3, password_changed_at = now(), updated_at = now()
          WHERE id = $1 AND password_hash = $2`,
        [accountId, row.password_hash, passwordHash],
      );
      if (changed !== 1) throw wrongCurrentPassword();
      await this.outbox.write(transaction, AccountEvents.passwordChanged, {
        subject: accountId,
        data: { accountId },
      });
    });
  }

  /**
   * Marks the account for deletion: sign-in is refused from now on, and the event tells the
   * services holding the person's data. Every sign-in session ends with it (with its grants;
   * back-channel logout once committed). Asking again changes nothing and emits nothing.
   */
  async requestDeletion(accountId: string): Promise<void> {
    let ended: EndedSession[] = [];
    await this.dataSource.transaction(async (transaction) => {
      const [, changed] = await transaction.query<[unknown[], number]>(
        `UPDATE accounts SET status = 'DELETION_REQUESTED', updated_at = now()
          WHERE id = $1 AND status <> 'DELETION_REQUESTED'`,
        [accountId],
      );
      if (changed === 0) {
        const [exists] = await transaction.query<unknown[]>(
          `SELECT 1 FROM accounts WHERE id = $1`,
          [accountId],
        );
        if (!exists) throw accountNotFound();
        return;
      }
      await this.outbox.write(transaction, AccountEvents.deletionRequested, {
        subject: accountId,
        data: { accountId },
      });
      // Every session ends with the request, in the same transaction: none outlives it.
      ended = await this.sessions.revokeAllWithin(
        transaction,
        accountId,
        selfActor(accountId),
        'account-deletion-requested',
      );
    });
    await this.sessions.notifyClients(ended);
  }

  /** The profile and the account's version (for optimistic concurrency), or undefined. */
  async getProfile(accountId: string): Promise<(Profile & { version: number }) | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(accountId)) return undefined;
    const [row] = await this.dataSource.query<
      {
        given_name: string | null;
        family_name: string | null;
        display_name: string | null;
        version: number;
      }[]
    >(`SELECT given_name, family_name, display_name, version FROM accounts WHERE id = $1`, [
      accountId,
    ]);
    return row
      ? {
          givenName: row.given_name,
          familyName: row.family_name,
          displayName: row.display_name,
          version: row.version,
        }
      : undefined;
  }

  /**
   * Changes the profile. Text is trimmed, empty means "not given"; at most 256 characters and no
   * control characters. With `expectedVersion`, a concurrent change since the form was loaded is
   * refused (409) instead of silently overwritten. Writes `profile-updated` (which attributes,
   * not their values) and increments the version, unless nothing changed.
   */
  async updateProfile(
    accountId: string,
    input: Profile,
    expectedVersion?: number,
  ): Promise<Profile & { version: number }> {
    const next = {} as Profile;
    const issues: { path: string; message: string }[] = [];
    for (const attribute of Object.keys(PROFILE_COLUMNS) as ProfileAttribute[]) {
      const value = input[attribute]?.normalize('NFC').trim() ?? '';
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      if ([...value].length > 256 || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
        issues.push({
          path: attribute,
          message: 'must be at most 256 characters, without control characters',
        });
      }
      next[attribute] = value === '' ? null : value;
    }
    if (issues.length > 0) throw new ValidationFailedError(issues);

    return this.dataSource.transaction(async (transaction) => {
      const [current] = await transaction.query<
        {
          given_name: string | null;
          family_name: string | null;
          display_name: string | null;
          version: number;
        }[]
      >(
        `SELECT given_name, family_name, display_name, version FROM accounts WHERE id = $1 FOR UPDATE`,
        [accountId],
      );
      if (!current) throw accountNotFound();
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw profileChangedMeanwhile();
      }
      const changed = (Object.keys(PROFILE_COLUMNS) as ProfileAttribute[]).filter(
        (attribute) =>
          next[attribute] !==
          (current as unknown as Record<string, string | null>)[PROFILE_COLUMNS[attribute]],
      );
      if (changed.length === 0) return { ...next, version: current.version };
      const [[updated]] = await transaction.query<[{ version: number }[], number]>(
        `UPDATE accounts SET given_name = $2, family_name = $3, display_name = $4,
                version = version + 1, updated_at = now()
          WHERE id = $1 RETURNING version`,
        [accountId, next.givenName, next.familyName, next.displayName],
      );
      await this.outbox.write(transaction, AccountEvents.profileUpdated, {
        subject: accountId,
        data: { accountId, version: updated!.version, changed },
      });
      return { ...next, version: updated!.version };
    });
  }

  /** The account with this id, or undefined. */
  async get(accountId: string): Promise<Account | undefined> {
    const row = await this.find(accountId);
    return row ? toAccount(row) : undefined;
  }

  private async find(accountId: string): Promise<AccountRow | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(accountId)) return undefined;
    const [row] = await this.dataSource.query<AccountRow[]>(
      `SELECT id, username, email, email_verified_at, password_hash, status, created_at
         FROM accounts WHERE id = $1`,
      [accountId],
    );
    return row;
  }

  /** Replaces the hash only if it is still the one just verified (a concurrent change wins). */
  private async rehash(transaction: EntityManager, row: AccountRow, password: string) {
    const rehashed = await this.hasher.hash(password);
    await transaction.query(
      `UPDATE accounts SET password_hash = $3, updated_at = now()
        WHERE id = $1 AND password_hash = $2`,
      [row.id, row.password_hash, rehashed],
    );
    this.logger.info({ accountId: row.id }, 'password rehashed with the current parameters');
  }

  private verificationMail(username: string, email: string, token: string) {
    const link = `${this.issuer}/account/verify?token=${token}`;
    return {
      to: email,
      subject: 'Confirm your e-mail address',
      text:
        `Hello ${username},\n\n` +
        `please confirm your e-mail address by opening this link:\n\n${link}\n\n` +
        `The link works once and expires in ${VERIFICATION_TTL_HOURS} hours. ` +
        `If you did not create an account, ignore this message.\n`,
    };
  }
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    emailVerified: row.email_verified_at !== null,
    status: row.status,
    createdAt: row.created_at,
  };
}
