import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type RunningService } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import { identityService } from '../identity.service.js';
import { identityTestEnv } from '../testing/identity-test-env.js';
import { PasswordHasher } from './password-hasher.js';
import { PasswordPolicy } from './password-policy.js';

describe('passwords in the identity service (booted on real PostgreSQL)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let service: RunningService | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    env = await identityTestEnv(database);
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('provides a hasher and a policy built from the environment', async () => {
    service = await startService(identityService, {
      env: { ...env, IDENTITY_PASSWORD_TIME_COST: '3', IDENTITY_PASSWORD_MIN_LENGTH: '12' },
    });
    const hasher = service.app.get(PasswordHasher);
    const policy = service.app.get(PasswordPolicy);

    const phc = await hasher.hash('a long enough passphrase');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
    await expect(hasher.verify(phc, 'a long enough passphrase')).resolves.toBe(true);
    await expect(hasher.verifyOrDecoy(undefined, 'a long enough passphrase')).resolves.toBe(false);

    expect(policy.check('eleven char')).toMatchObject({ ok: false, reason: 'too-short' });
    expect(policy.check('password1234')).toMatchObject({ ok: false, reason: 'common' });
    expect(policy.check('a long enough passphrase')).toEqual({ ok: true });
    await service.stop();
    service = undefined;
  });

  it('refuses to start with Argon2id parameters weaker than OWASP minimums', async () => {
    await expect(
      startService(identityService, { env: { ...env, IDENTITY_PASSWORD_MEMORY_KIB: '8192' } }),
    ).rejects.toThrow(
      /IDENTITY_PASSWORD_MEMORY_KIB: Argon2id m=8192 KiB, t=2 is weaker than OWASP/,
    );
  });
});
