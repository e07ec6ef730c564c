import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@rampart/platform';
import { identityConfigSchema } from '../config/identity.config.js';
import { CONFIG_TEST_ENV } from '../testing/config-env.js';
import { PasswordPolicy } from './password-policy.js';

const baseEnv = CONFIG_TEST_ENV;

function policyFrom(env: Record<string, string> = {}): Promise<PasswordPolicy> {
  return PasswordPolicy.fromConfig(
    loadConfig('identity', identityConfigSchema, { ...baseEnv, ...env }),
  );
}

describe('PasswordPolicy (NIST 800-63B)', () => {
  let policy: PasswordPolicy;
  beforeAll(async () => {
    policy = await policyFrom();
  });

  it('loads the bundled list of common passwords at boot', () => {
    // Only the entries the length rule does not already refuse are kept (about 18,000 of 49,000).
    expect(policy.blocklistSize).toBeGreaterThan(15_000);
    expect(policy.minLength).toBe(8);
    expect(policy.maxLength).toBe(1_024);
  });

  it('has no composition rules: any long enough, uncommon password is accepted', () => {
    for (const password of [
      'all lowercase letters here',
      'correct horse battery staple',
      '        spaces count too',
      'ÅÄÖ åäö ñ ß 漢字 пароль',
      '🔒🔑🗝️🔐🔒🔑🗝️🔐',
    ]) {
      expect(policy.check(password)).toEqual({ ok: true });
    }
  });

  it('counts length in Unicode code points after NFKC, not in UTF-16 units or bytes', () => {
    // Seven emoji are fourteen UTF-16 units, but seven characters.
    expect(policy.check('🔒🔑🔐🔒🔑🔐🔒')).toMatchObject({ ok: false, reason: 'too-short' });
    expect(policy.check('🔒🔑🔐🔒🔑🔐🔒🔑')).toEqual({ ok: true });
    // "e" + combining acute is one character once composed: 7 characters, too short.
    expect(policy.check('cafe\u0301bar')).toMatchObject({ ok: false, reason: 'too-short' });
  });

  it('refuses passwords shorter than the minimum and longer than the maximum', () => {
    expect(policy.check('short7!')).toEqual({
      ok: false,
      reason: 'too-short',
      minLength: 8,
      maxLength: 1_024,
    });
    expect(policy.check('')).toMatchObject({ reason: 'too-short' });
    expect(policy.check('x7Gq'.repeat(256))).toEqual({ ok: true });
    expect(policy.check('x7Gq'.repeat(256) + 'z')).toMatchObject({ ok: false, reason: 'too-long' });
  });

  it('refuses common and breached passwords whatever their case or width', () => {
    for (const password of ['password', 'Password1', 'iloveyou1', '12345678', 'TRUSTNO1']) {
      expect(policy.check(password)).toMatchObject({ ok: false, reason: 'common' });
    }
    // Full-width letters are "password" once NFKC-normalised.
    expect(policy.check('\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44')).toMatchObject({
      reason: 'common',
    });
  });

  it('refuses the username, the email address or its local part', () => {
    const identifiers = ['alice.smith', 'Alice.Smith@Example.com', undefined];
    expect(policy.check('alice.smith', identifiers)).toMatchObject({
      reason: 'matches-identifier',
    });
    expect(policy.check('ALICE.SMITH@example.COM', identifiers)).toMatchObject({
      reason: 'matches-identifier',
    });
    expect(policy.check('bob.jones@example.org', ['bob.jones@example.org'])).toMatchObject({
      reason: 'matches-identifier',
    });
    expect(policy.check('bob.jones', ['bob.jones@example.org'])).toMatchObject({
      reason: 'matches-identifier',
    });
    expect(policy.check('alice.smith in wonderland', identifiers)).toEqual({ ok: true });
  });

  it('takes a longer minimum and an operator list from the configuration', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'rampart-blocklist-'));
    try {
      const file = join(folder, 'blocklist.txt');
      await writeFile(file, 'Rampart Staging 2026\r\nacme corporation secrets\n');
      const strict = await policyFrom({
        IDENTITY_PASSWORD_MIN_LENGTH: '15',
        IDENTITY_PASSWORD_BLOCKLIST_FILE: file,
      });
      expect(strict.check('fourteen chars')).toMatchObject({ reason: 'too-short', minLength: 15 });
      expect(strict.check('rampart staging 2026')).toMatchObject({ reason: 'common' });
      expect(strict.check('ACME CORPORATION SECRETS')).toMatchObject({ reason: 'common' });
      expect(strict.check('fifteen characters')).toEqual({ ok: true });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
