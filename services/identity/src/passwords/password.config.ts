import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * OWASP's Password Storage Cheat Sheet lists five Argon2id configurations of equal strength
 * (memory in KiB, passes; one lane each). Parameters are accepted when they are at least as strong
 * as one of them in both memory and passes.
 */
export const OWASP_ARGON2ID_MINIMUMS: readonly { memoryKib: number; timeCost: number }[] = [
  { memoryKib: 47_104, timeCost: 1 },
  { memoryKib: 19_456, timeCost: 2 },
  { memoryKib: 12_288, timeCost: 3 },
  { memoryKib: 9_216, timeCost: 4 },
  { memoryKib: 7_168, timeCost: 5 },
];

/** Hard ceiling on a password's length in code points: Argon2 reads all of it, so it bounds CPU. */
export const PASSWORD_LENGTH_CEILING = 4_096;

/** Environment variables of password storage and policy (merged into the identity config). */
export const passwordConfigShape = {
  /** Argon2id memory in KiB (OWASP: 19456 = 19 MiB with 2 passes). */
  IDENTITY_PASSWORD_MEMORY_KIB: z.coerce.number().int().min(1_024).max(4_194_304).default(19_456),
  /** Argon2id passes over memory. */
  IDENTITY_PASSWORD_TIME_COST: z.coerce.number().int().min(1).max(100).default(2),
  /** Argon2id lanes inside one hash; 1 keeps one hash on one core, so the cores serve logins. */
  IDENTITY_PASSWORD_PARALLELISM: z.coerce.number().int().min(1).max(16).default(1),
  /** Hashes computed at once; more wait in line. Defaults to the cores available to the process. */
  IDENTITY_PASSWORD_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(() => availableParallelism()),
  /** Hashes allowed to wait; beyond, a login is refused with 503 rather than queued for minutes. */
  IDENTITY_PASSWORD_MAX_QUEUE: z.coerce.number().int().min(0).max(100_000).default(1_000),
  /** Shortest password accepted, in Unicode code points (NIST 800-63B: at least 8; 15 without MFA). */
  IDENTITY_PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(8),
  /** Longest password accepted, in code points (NIST 800-63B: at least 64; we accept 128 or more). */
  IDENTITY_PASSWORD_MAX_LENGTH: z.coerce
    .number()
    .int()
    .min(128)
    .max(PASSWORD_LENGTH_CEILING)
    .default(1_024),
  /** Optional extra blocklist (one password per line, UTF-8), e.g. an organisation's own words. */
  IDENTITY_PASSWORD_BLOCKLIST_FILE: z.string().min(1).optional(),
};

const _passwordConfigObject = z.object(passwordConfigShape);
export type PasswordConfig = z.infer<typeof _passwordConfigObject>;

/** Argon2id cost parameters as they appear in a PHC string. */
export interface Argon2Parameters {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export function argon2ParametersOf(config: PasswordConfig): Argon2Parameters {
  return {
    memoryKib: config.IDENTITY_PASSWORD_MEMORY_KIB,
    timeCost: config.IDENTITY_PASSWORD_TIME_COST,
    parallelism: config.IDENTITY_PASSWORD_PARALLELISM,
  };
}

export function meetsOwaspMinimum({ memoryKib, timeCost }: Argon2Parameters): boolean {
  return OWASP_ARGON2ID_MINIMUMS.some(
    (minimum) => memoryKib >= minimum.memoryKib && timeCost >= minimum.timeCost,
  );
}

/**
 * Cross-field rules, for the service schema's superRefine: parameters weaker than OWASP's are
 * refused unless RAMPART_ALLOW_INSECURE_DEV_DEFAULTS is set (which production mode refuses).
 * (The length bounds need no such rule: the minimum is at most 64 and the maximum at least 128.)
 */
export function checkPasswordConfig(
  config: PasswordConfig & { RAMPART_ALLOW_INSECURE_DEV_DEFAULTS: boolean },
  issue: (variable: string, message: string) => void,
): void {
  if (
    !meetsOwaspMinimum(argon2ParametersOf(config)) &&
    !config.RAMPART_ALLOW_INSECURE_DEV_DEFAULTS
  ) {
    issue(
      'IDENTITY_PASSWORD_MEMORY_KIB',
      `Argon2id m=${config.IDENTITY_PASSWORD_MEMORY_KIB} KiB, t=${config.IDENTITY_PASSWORD_TIME_COST} ` +
        'is weaker than OWASP minimums (e.g. m=19456, t=2; or m=47104, t=1; m=12288, t=3; ' +
        'm=9216, t=4; m=7168, t=5)',
    );
  }
}
