import { randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Algorithm, Options, Version } from '@node-rs/argon2';
import { ConcurrencyLimit } from './concurrency-limit.js';
import {
  PASSWORD_LENGTH_CEILING,
  argon2ParametersOf,
  type Argon2Parameters,
  type PasswordConfig,
} from './password.config.js';
import { codePointLength, normalizePassword } from './password-text.js';

/** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (the PHC string format). */
const PHC_ARGON2 =
  /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const ARGON2_VERSION = 19; // 0x13, the current and only recommended version

export interface PasswordHasherOptions {
  parameters: Argon2Parameters;
  /** Hashes computed at once (the cores); more wait in line. */
  concurrency: number;
  /** Hashes allowed to wait; more are refused with 503. */
  maxQueue: number;
  /** Passwords longer than this (code points) are never hashed: verify says false, hash throws. */
  maxLength?: number;
}

/**
 * Argon2id password hashes as PHC strings. The hashing runs on libuv's thread pool through
 * @node-rs/argon2 (native, never on the event loop) with at most `concurrency` hashes at once.
 * Create with `PasswordHasher.create`, which also prepares the decoy hash.
 */
export class PasswordHasher {
  readonly #limit: ConcurrencyLimit;
  readonly #maxLength: number;
  /** A hash of a random secret at the current parameters: what unknown users are checked against. */
  readonly #decoyHash: string;

  private constructor(
    readonly parameters: Argon2Parameters,
    options: PasswordHasherOptions,
    decoyHash: string,
  ) {
    this.#decoyHash = decoyHash;
    this.#limit = new ConcurrencyLimit(options.concurrency, options.maxQueue);
    this.#maxLength = options.maxLength ?? PASSWORD_LENGTH_CEILING;
  }

  static async create(options: PasswordHasherOptions): Promise<PasswordHasher> {
    const decoy = await argon2Hash(randomBytes(32), toLibraryOptions(options.parameters));
    return new PasswordHasher(options.parameters, options, decoy);
  }

  static fromConfig(config: PasswordConfig): Promise<PasswordHasher> {
    return PasswordHasher.create({
      parameters: argon2ParametersOf(config),
      concurrency: config.IDENTITY_PASSWORD_CONCURRENCY,
      maxQueue: config.IDENTITY_PASSWORD_MAX_QUEUE,
      maxLength: config.IDENTITY_PASSWORD_MAX_LENGTH,
    });
  }

  /** Hashes currently being computed and waiting, and the most ever computed at once. */
  get load(): { inFlight: number; queued: number; peakInFlight: number } {
    return {
      inFlight: this.#limit.inFlight,
      queued: this.#limit.queued,
      peakInFlight: this.#limit.peakInFlight,
    };
  }

  /** A new PHC string with a fresh 16-byte salt. Check the password with PasswordPolicy first. */
  async hash(password: string): Promise<string> {
    const normalized = normalizePassword(password);
    if (codePointLength(normalized) > this.#maxLength) {
      throw new RangeError(`password longer than ${this.#maxLength} characters`);
    }
    return this.#limit.run(() => argon2Hash(normalized, toLibraryOptions(this.parameters)));
  }

  /**
   * Whether `password` matches `phc`, at the parameters recorded in `phc`. A stored value that is
   * not an Argon2 PHC string is a data fault and throws rather than reading as a wrong password.
   */
  async verify(phc: string, password: string): Promise<boolean> {
    if (!PHC_ARGON2.test(phc)) throw new Error('stored password hash is not an Argon2 PHC string');
    const normalized = normalizePassword(password);
    // Refused before hashing, whoever the user is: this reveals nothing about who exists.
    if (codePointLength(normalized) > this.#maxLength) return false;
    return this.#limit.run(() => argon2Verify(phc, normalized));
  }

  /**
   * `verify` for a user who may not exist: with no hash, the same work is done against the decoy
   * hash and the answer is false, so the time taken does not tell an attacker whether an account
   * exists. (A known user whose hash has older, cheaper parameters is faster until rehashed.)
   */
  async verifyOrDecoy(phc: string | undefined, password: string): Promise<boolean> {
    if (phc === undefined) {
      await this.verify(this.#decoyHash, password);
      return false;
    }
    return this.verify(phc, password);
  }

  /** True when `phc` was made with another algorithm, version or parameters than configured now. */
  needsRehash(phc: string): boolean {
    const match = PHC_ARGON2.exec(phc);
    if (!match) return true;
    const [, algorithm, version, memory, time, lanes] = match;
    return (
      algorithm !== 'argon2id' ||
      Number(version) !== ARGON2_VERSION ||
      Number(memory) !== this.parameters.memoryKib ||
      Number(time) !== this.parameters.timeCost ||
      Number(lanes) !== this.parameters.parallelism
    );
  }
}

/** The library's enums are `const enum`s in its typings only, so their values are spelled here. */
const ARGON2ID = 2 as Algorithm;
const VERSION_0X13 = 1 as Version;

function toLibraryOptions(parameters: Argon2Parameters): Options {
  return {
    algorithm: ARGON2ID,
    version: VERSION_0X13,
    memoryCost: parameters.memoryKib,
    timeCost: parameters.timeCost,
    parallelism: parameters.parallelism,
    outputLen: 32,
  };
}
