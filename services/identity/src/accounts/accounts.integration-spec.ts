import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { RampartError, createLogger, startService, type RunningService } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import { identityService } from '../identity.service.js';
import { identityTestEnv } from '../testing/identity-test-env.js';
import { LocalMailbox } from '../mail/local-mailbox.js';
import { PasswordHasher } from '../passwords/password-hasher.js';
import { AccountsService } from './accounts.service.js';

const PASSWORD = 'correct horse battery staple';
const CONTEXT = { ip: '203.0.113.7', userAgent: 'jest (accounts test)' };

describe('accounts (identity service booted on real PostgreSQL, local mailbox)', () => {
  let database: TestDatabase;
  let folder: string;
  let service: RunningService;
  let accounts: AccountsService;
  let mailbox: LocalMailbox;
  /** Every password, hash and token the tests handled: none may appear in an event. */
  const secrets = new Set<string>();
  /** Every log line the service wrote (at debug level, so nothing is filtered out). */
  const logLines: string[] = [];

  async function query<T>(sql: string, parameters: unknown[] = []): Promise<T[]> {
    return service.dataSource!.query<T[]>(sql, parameters);
  }

  async function events(type: string) {
    const rows = await query<{ payload: string }>(
      `SELECT payload FROM outbox WHERE payload::jsonb->>'type' = $1 ORDER BY id`,
      [type],
    );
    return rows.map(
      (row) => JSON.parse(row.payload) as { subject: string; data: Record<string, unknown> },
    );
  }

  /** The token of the last verification mail to `email`, read as a person would: from the link. */
  async function tokenMailedTo(email: string): Promise<string> {
    const mails = await mailbox.list(email);
    const link = /http:\/\/localhost:8080\/account\/verify\?token=([A-Za-z0-9_-]+)/.exec(
      mails.at(-1)!.text,
    );
    expect(link).not.toBeNull();
    secrets.add(link![1]!);
    return link![1]!;
  }

  async function register(username: string, password = PASSWORD) {
    secrets.add(password);
    const account = await accounts.register({
      username,
      email: `${username}@Example.org`,
      password,
    });
    const [row] = await query<{ password_hash: string }>(
      `SELECT password_hash FROM accounts WHERE id = $1`,
      [account.id],
    );
    secrets.add(row!.password_hash);
    return account;
  }

  async function failure(promise: Promise<unknown>) {
    try {
      await promise;
    } catch (error) {
      if (error instanceof RampartError) {
        return { code: error.code, detail: error.detail, ...error.extensions };
      }
      throw error;
    }
    throw new Error('expected a RampartError');
  }

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    folder = await mkdtemp(join(tmpdir(), 'rampart-identity-accounts-'));
    service = await startService(identityService, {
      env: await identityTestEnv(database, { IDENTITY_MAILBOX_DIR: join(folder, 'mailbox') }),
      logger: createLogger('identity', 'debug', { write: (line: string) => logLines.push(line) }),
    });
    accounts = service.app.get(AccountsService);
    mailbox = new LocalMailbox(join(folder, 'mailbox'), 'unused@example.org');
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('registers an account, mails a readable link whose token verifies the address once', async () => {
    const account = await register('alice');
    expect(account).toMatchObject({
      username: 'alice',
      email: 'alice@example.org',
      emailVerified: false,
      status: 'ACTIVE',
    });

    const [mail] = await mailbox.list('alice@example.org');
    expect(mail!.subject).toBe('Confirm your e-mail address');
    expect(mail!.text).toContain('Hello alice,');
    expect(mail!.text).toContain('expires in 24 hours');
    const token = await tokenMailedTo('alice@example.org');
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);

    // Only the digest is stored.
    const stored = await query<{ token_hash: Buffer; expires_at: Date }>(
      `SELECT token_hash, expires_at FROM email_verifications WHERE account_id = $1`,
      [account.id],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash.toString('base64url')).not.toBe(token);
    const hours = (stored[0]!.expires_at.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);

    await expect(accounts.verifyEmail(token)).resolves.toMatchObject({
      id: account.id,
      emailVerified: true,
    });
    expect(await failure(accounts.verifyEmail(token))).toMatchObject({
      code: 'bad-request',
      detail: 'The verification link is invalid or has expired.',
    });

    expect(await events('rampart.identity.account.registered')).toEqual([
      expect.objectContaining({
        subject: account.id,
        data: { accountId: account.id, username: 'alice', emailDomain: 'example.org' },
      }),
    ]);
    expect(await events('rampart.identity.account.email-verified')).toEqual([
      expect.objectContaining({ subject: account.id, data: { accountId: account.id } }),
    ]);
  });

  it('refuses expired, unknown and malformed verification tokens the same way', async () => {
    const account = await register('bob');
    const token = await tokenMailedTo('bob@example.org');
    await query(
      `UPDATE email_verifications SET expires_at = now() - interval '1 second' WHERE account_id = $1`,
      [account.id],
    );
    for (const attempt of [token, 'A'.repeat(43), 'not a token', '']) {
      expect(await failure(accounts.verifyEmail(attempt))).toMatchObject({ code: 'bad-request' });
    }
    await expect(accounts.get(account.id)).resolves.toMatchObject({ emailVerified: false });
  });

  it('answers a taken username or e-mail address with one conflict, writing nothing', async () => {
    await register('carol');
    const before = await query<{ count: string }>(`SELECT count(*) FROM outbox`);
    const mailsBefore = (await mailbox.list()).length;
    const duplicates = [
      { username: 'CAROL', email: 'someone-else@example.org', password: PASSWORD },
      { username: 'carol2', email: 'Carol@EXAMPLE.org', password: PASSWORD },
    ];
    for (const duplicate of duplicates) {
      expect(await failure(accounts.register(duplicate))).toEqual({
        code: 'conflict',
        detail: 'An account with this username or e-mail address already exists.',
      });
    }
    expect(await query(`SELECT count(*) FROM outbox`)).toEqual(before);
    expect(await mailbox.list()).toHaveLength(mailsBefore);
    expect(await query(`SELECT 1 FROM accounts WHERE username = 'carol2'`)).toEqual([]);
  });

  it('refuses weak passwords and malformed identifiers with reason codes', async () => {
    const cases = [
      ['short', 'too-short'],
      ['password123', 'common'],
      ['dave@example.org', 'matches-identifier'],
      ['Dave', 'too-short'],
      ['davedave', 'common'],
    ] as const;
    for (const [password, reason] of cases) {
      expect(
        await failure(accounts.register({ username: 'dave', email: 'dave@example.org', password })),
      ).toMatchObject({ code: 'validation-failed', reason, errors: [{ path: 'password' }] });
    }
    expect(
      await failure(
        accounts.register({
          username: 'dave-is-dave',
          email: 'dave@example.org',
          password: 'dave-is-dave',
        }),
      ),
    ).toMatchObject({ reason: 'matches-identifier' });
    expect(
      await failure(
        accounts.register({ username: 'x y', email: 'not-an-address', password: PASSWORD }),
      ),
    ).toMatchObject({
      code: 'validation-failed',
      errors: [{ path: 'username' }, { path: 'email' }],
    });
    expect(await query(`SELECT 1 FROM accounts WHERE email LIKE 'dave%'`)).toEqual([]);
  });

  it('signs in with the right password and records why others fail', async () => {
    const account = await register('erin');
    await expect(accounts.authenticate('Erin', PASSWORD, CONTEXT)).resolves.toEqual({
      ok: true,
      account: expect.objectContaining({ id: account.id }),
    });
    await expect(accounts.authenticate('erin', 'wrong password!', CONTEXT)).resolves.toEqual({
      ok: false,
      reason: 'bad-password',
    });
    secrets.add('wrong password!');

    // An unknown user still costs one Argon2 verification (against the decoy hash). The spy only
    // watches: the real hasher runs.
    const hasher = service.app.get(PasswordHasher);
    const verify = jest.spyOn(hasher, 'verify');
    try {
      await expect(accounts.authenticate('nobody', PASSWORD, CONTEXT)).resolves.toEqual({
        ok: false,
        reason: 'unknown-user',
      });
      expect(verify).toHaveBeenCalledTimes(1);
      expect(verify.mock.calls[0]![0]).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    } finally {
      verify.mockRestore();
    }

    expect(await events('rampart.identity.login.succeeded')).toEqual([
      expect.objectContaining({ subject: account.id, data: { accountId: account.id, ...CONTEXT } }),
    ]);
    expect((await events('rampart.identity.login.failed')).map((event) => event.data)).toEqual([
      { accountId: account.id, reason: 'bad-password', ...CONTEXT },
      { reason: 'unknown-user', ...CONTEXT },
    ]);
  });

  it('rehashes a password stored with older parameters at the next sign-in', async () => {
    const account = await register('frank');
    const older = await PasswordHasher.create({
      parameters: { memoryKib: 19_456, timeCost: 3, parallelism: 1 },
      concurrency: 1,
      maxQueue: 1,
    });
    const oldHash = await older.hash(PASSWORD);
    secrets.add(oldHash);
    await query(`UPDATE accounts SET password_hash = $2 WHERE id = $1`, [account.id, oldHash]);

    await expect(accounts.authenticate('frank', PASSWORD, CONTEXT)).resolves.toMatchObject({
      ok: true,
    });
    const [row] = await query<{ password_hash: string }>(
      `SELECT password_hash FROM accounts WHERE id = $1`,
      [account.id],
    );
    secrets.add(row!.password_hash);
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(accounts.authenticate('frank', PASSWORD, CONTEXT)).resolves.toMatchObject({
      ok: true,
    });
  });

  it('changes the password only with the current one and a policy-conforming new one', async () => {
    const account = await register('grace');
    const next = 'a different long passphrase';
    secrets.add(next);
    expect(
      await failure(accounts.changePassword(account.id, 'not the password', next)),
    ).toMatchObject({ code: 'validation-failed', errors: [{ path: 'currentPassword' }] });
    expect(await failure(accounts.changePassword(account.id, PASSWORD, 'password1'))).toMatchObject(
      {
        code: 'validation-failed',
        reason: 'common',
        errors: [{ path: 'newPassword' }],
      },
    );
    await accounts.changePassword(account.id, PASSWORD, next);
    const [row] = await query<{ password_hash: string }>(
      `SELECT password_hash FROM accounts WHERE id = $1`,
      [account.id],
    );
    secrets.add(row!.password_hash);

    await expect(accounts.authenticate('grace', PASSWORD, CONTEXT)).resolves.toMatchObject({
      reason: 'bad-password',
    });
    await expect(accounts.authenticate('grace', next, CONTEXT)).resolves.toMatchObject({
      ok: true,
    });
    expect(await events('rampart.identity.account.password-changed')).toEqual([
      expect.objectContaining({ subject: account.id, data: { accountId: account.id } }),
    ]);
  });

  it('records a deletion request once and refuses sign-in afterwards', async () => {
    const account = await register('heidi');
    await accounts.requestDeletion(account.id);
    await accounts.requestDeletion(account.id);
    await expect(accounts.get(account.id)).resolves.toMatchObject({ status: 'DELETION_REQUESTED' });
    expect(await events('rampart.identity.account.deletion-requested')).toEqual([
      expect.objectContaining({ subject: account.id, data: { accountId: account.id } }),
    ]);
    // The status is only revealed to someone who knows the password.
    await expect(accounts.authenticate('heidi', 'wrong password!', CONTEXT)).resolves.toEqual({
      ok: false,
      reason: 'bad-password',
    });
    await expect(accounts.authenticate('heidi', PASSWORD, CONTEXT)).resolves.toEqual({
      ok: false,
      reason: 'deletion-requested',
    });
    await query(`UPDATE accounts SET status = 'DISABLED' WHERE id = $1`, [account.id]);
    await expect(accounts.authenticate('heidi', PASSWORD, CONTEXT)).resolves.toEqual({
      ok: false,
      reason: 'disabled',
    });
    expect(
      await failure(accounts.requestDeletion('00000000-0000-4000-8000-000000000000')),
    ).toMatchObject({ code: 'not-found' });
  });

  it('never writes a password, password hash or verification token into an event or a log line', async () => {
    const payloads = await query<{ payload: string }>(`SELECT payload FROM outbox`);
    const identityEvents = payloads.filter((row) => row.payload.includes('rampart.identity.'));
    expect(identityEvents.length).toBeGreaterThan(10);
    expect(secrets.size).toBeGreaterThan(10);
    for (const { payload } of identityEvents) {
      for (const secret of secrets) expect(payload).not.toContain(secret);
      expect(payload).not.toMatch(/\$argon2/);
    }
    const accountLines = logLines.filter((line) => line.includes('"accountId"'));
    expect(accountLines.length).toBeGreaterThan(5);
    for (const line of logLines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
  });
});
