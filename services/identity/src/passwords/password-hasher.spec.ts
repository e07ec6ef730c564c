import { loadConfig } from '@rampart/platform';
import { identityConfigSchema } from '../config/identity.config.js';
import { PasswordHasher } from './password-hasher.js';
import { CONFIG_TEST_ENV } from '../testing/config-env.js';

// Real Argon2id at OWASP's parameters throughout: these tests are about the real cost.
const OWASP = { memoryKib: 19_456, timeCost: 2, parallelism: 1 };
const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

function hasher(parameters = OWASP, concurrency = 2, maxQueue = 100): Promise<PasswordHasher> {
  return PasswordHasher.create({ parameters, concurrency, maxQueue });
}

const baseEnv = CONFIG_TEST_ENV;

describe('PasswordHasher', () => {
  it('makes Argon2id PHC strings with the configured parameters and a fresh salt', async () => {
    const passwords = await hasher();
    const first = await passwords.hash('correct horse battery staple');
    const second = await passwords.hash('correct horse battery staple');
    expect(first).toMatch(PHC);
    expect(second).toMatch(PHC);
    expect(second).not.toBe(first);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const passwords = await hasher();
    const phc = await passwords.hash('correct horse battery staple');
    await expect(passwords.verify(phc, 'correct horse battery staple')).resolves.toBe(true);
    await expect(passwords.verify(phc, 'correct horse battery stapl')).resolves.toBe(false);
    await expect(passwords.verify(phc, 'Correct horse battery staple')).resolves.toBe(false);
  });

  it('hashes the NFKC form, so composed and decomposed spellings are one password', async () => {
    const passwords = await hasher();
    const phc = await passwords.hash('caf\u00e9 au lait \uff12\uff10\uff12\uff16'); // é, full-width 2026
    await expect(passwords.verify(phc, 'cafe\u0301 au lait 2026')).resolves.toBe(true);
  });

  it('refuses over-long passwords without hashing them', async () => {
    const passwords = await PasswordHasher.create({
      parameters: OWASP,
      concurrency: 1,
      maxQueue: 10,
      maxLength: 128,
    });
    const phc = await passwords.hash('x'.repeat(128));
    await expect(passwords.verify(phc, 'x'.repeat(129))).resolves.toBe(false);
    await expect(passwords.hash('x'.repeat(129))).rejects.toThrow(RangeError);
  });

  it('treats a stored value that is not an Argon2 PHC string as a fault, not a wrong password', async () => {
    const passwords = await hasher();
    await expect(passwords.verify('$2b$10$notargon', 'whatever password')).rejects.toThrow(
      /not an Argon2 PHC string/,
    );
  });

  it('asks for a rehash when the parameters change, and still verifies the old hash', async () => {
    const before = await hasher();
    const phc = await before.hash('correct horse battery staple');
    expect(before.needsRehash(phc)).toBe(false);

    const morePasses = await hasher({ ...OWASP, timeCost: 3 });
    const moreMemory = await hasher({ ...OWASP, memoryKib: 47_104 });
    expect(morePasses.needsRehash(phc)).toBe(true);
    expect(moreMemory.needsRehash(phc)).toBe(true);
    // Login with the old hash still works; the caller then stores a hash at the new parameters.
    await expect(morePasses.verify(phc, 'correct horse battery staple')).resolves.toBe(true);
    const rehashed = await morePasses.hash('correct horse battery staple');
    expect(rehashed).toContain('$m=19456,t=3,p=1$');
    expect(morePasses.needsRehash(rehashed)).toBe(false);

    expect(before.needsRehash(phc.replace('$argon2id$', '$argon2i$'))).toBe(true);
    expect(before.needsRehash(phc.replace('$v=19$', '$v=16$'))).toBe(true);
    expect(before.needsRehash('$2b$10$somebcrypthash')).toBe(true);
  });

  it('never computes more hashes at once than its concurrency, and queues the rest', async () => {
    const passwords = await hasher(OWASP, 2);
    const phc = await passwords.hash('correct horse battery staple');
    const samples: { inFlight: number; queued: number }[] = [];
    const sampler = setInterval(() => samples.push(passwords.load), 1);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => passwords.verify(phc, 'correct horse battery staple')),
    );
    clearInterval(sampler);
    expect(results).toEqual(Array(10).fill(true));
    expect(passwords.load.peakInFlight).toBe(2);
    expect(Math.max(...samples.map((sample) => sample.inFlight))).toBeLessThanOrEqual(2);
    expect(Math.max(...samples.map((sample) => sample.queued))).toBeGreaterThan(0);
    expect(passwords.load).toEqual({ inFlight: 0, queued: 0, peakInFlight: 2 });
  });

  it('refuses with 503 once the queue is full instead of waiting without bound', async () => {
    const passwords = await hasher(OWASP, 1, 1);
    const phc = await passwords.hash('correct horse battery staple');
    const running = passwords.verify(phc, 'correct horse battery staple');
    const waiting = passwords.verify(phc, 'correct horse battery staple');
    const refused = passwords.verify(phc, 'correct horse battery staple');
    await expect(refused).rejects.toMatchObject({ code: 'service-unavailable', status: 503 });
    await expect(Promise.all([running, waiting])).resolves.toEqual([true, true]);
  });

  it('takes as long for an unknown user (decoy) as for a known user with a wrong password', async () => {
    const passwords = await hasher(OWASP, 1);
    const known = await passwords.hash('correct horse battery staple');
    // A control the comparison must tell apart: the same hash at twice the passes.
    const slower = await (await hasher({ ...OWASP, timeCost: 4 })).hash('another password');
    const durations = { known: [] as number[], unknown: [] as number[], slower: [] as number[] };
    const time = async (phc: string | undefined) => {
      const started = performance.now();
      const result = await passwords.verifyOrDecoy(phc, 'a wrong guess');
      expect(result).toBe(false);
      return performance.now() - started;
    };
    await time(known); // warm-up
    // Interleaved, so that load changes on a shared machine hit all three alike.
    for (let run = 0; run < 30; run += 1) {
      durations.known.push(await time(known));
      durations.unknown.push(await time(undefined));
      durations.slower.push(await time(slower));
    }
    const known50 = median(durations.known);
    const unknown50 = median(durations.unknown);
    const slower50 = median(durations.slower);
    expect(Math.abs(unknown50 - known50) / known50).toBeLessThan(0.2);
    expect(slower50 / known50).toBeGreaterThan(1.4);
  });

  it('returns false for an unknown user whatever the password', async () => {
    const passwords = await hasher();
    await expect(passwords.verifyOrDecoy(undefined, '')).resolves.toBe(false);
    await expect(passwords.verifyOrDecoy(undefined, 'correct horse battery staple')).resolves.toBe(
      false,
    );
  });
});

describe('password hashing configuration', () => {
  it('defaults to OWASP parameters and one hash per core', () => {
    const config = loadConfig('identity', identityConfigSchema, baseEnv);
    expect(config.IDENTITY_PASSWORD_MEMORY_KIB).toBe(19_456);
    expect(config.IDENTITY_PASSWORD_TIME_COST).toBe(2);
    expect(config.IDENTITY_PASSWORD_PARALLELISM).toBe(1);
    expect(config.IDENTITY_PASSWORD_CONCURRENCY).toBeGreaterThanOrEqual(1);
  });

  it('accepts another of OWASP equivalent settings and refuses anything weaker', () => {
    const accepted = loadConfig('identity', identityConfigSchema, {
      ...baseEnv,
      IDENTITY_PASSWORD_MEMORY_KIB: '47104',
      IDENTITY_PASSWORD_TIME_COST: '1',
    });
    expect(accepted.IDENTITY_PASSWORD_MEMORY_KIB).toBe(47_104);
    expect(() =>
      loadConfig('identity', identityConfigSchema, {
        ...baseEnv,
        IDENTITY_PASSWORD_MEMORY_KIB: '19455',
      }),
    ).toThrow(/IDENTITY_PASSWORD_MEMORY_KIB: .*weaker than OWASP/);
  });

  it('allows weaker parameters only as an insecure development default, never in production', () => {
    const weak = {
      ...baseEnv,
      IDENTITY_PASSWORD_MEMORY_KIB: '4096',
      IDENTITY_PASSWORD_TIME_COST: '1',
    };
    const development = loadConfig('identity', identityConfigSchema, {
      ...weak,
      RAMPART_ALLOW_INSECURE_DEV_DEFAULTS: 'true',
    });
    expect(development.IDENTITY_PASSWORD_MEMORY_KIB).toBe(4_096);
    expect(() =>
      loadConfig('identity', identityConfigSchema, {
        ...weak,
        RAMPART_MODE: 'production',
        RAMPART_ALLOW_INSECURE_DEV_DEFAULTS: 'true',
        IDENTITY_SMTP_URL: 'smtps://relay.example.com',
        IDENTITY_MAIL_FROM: 'no-reply@example.com',
      }),
    ).toThrow(/refused when RAMPART_MODE=production/);
    expect(() =>
      loadConfig('identity', identityConfigSchema, { ...weak, RAMPART_MODE: 'production' }),
    ).toThrow(/weaker than OWASP/);
  });

  it('refuses a minimum length under 8 and a maximum under 128', () => {
    const load = (env: Record<string, string>) => () =>
      loadConfig('identity', identityConfigSchema, { ...baseEnv, ...env });
    expect(load({ IDENTITY_PASSWORD_MIN_LENGTH: '7' })).toThrow(/IDENTITY_PASSWORD_MIN_LENGTH/);
    expect(load({ IDENTITY_PASSWORD_MAX_LENGTH: '127' })).toThrow(/IDENTITY_PASSWORD_MAX_LENGTH/);
    expect(
      load({ IDENTITY_PASSWORD_MIN_LENGTH: '64', IDENTITY_PASSWORD_MAX_LENGTH: '128' }),
    ).not.toThrow();
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
