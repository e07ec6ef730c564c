import { blocklistKey, loadCommonPasswords } from './common-passwords.js';
import type { PasswordConfig } from './password.config.js';
import { codePointLength, normalizePassword } from './password-text.js';

/** Why a new password is refused; stable codes the pages and API map to messages. */
export type PasswordRejection = 'too-short' | 'too-long' | 'common' | 'matches-identifier';

export type PasswordVerdict =
  { ok: true } | { ok: false; reason: PasswordRejection; minLength: number; maxLength: number };

/**
 * NIST SP 800-63B (5.1.1.2) rules for a password a person chooses: a length range counted in
 * Unicode code points after NFKC normalisation, no composition rules (no "one digit, one symbol"),
 * no hints, and a refusal of values that are common, breached or derived from the account's own
 * identifiers. Spaces and every printable character are allowed.
 */
export class PasswordPolicy {
  constructor(
    readonly minLength: number,
    readonly maxLength: number,
    private readonly blocklist: ReadonlySet<string>,
  ) {}

  static async fromConfig(config: PasswordConfig): Promise<PasswordPolicy> {
    const blocklist = await loadCommonPasswords({
      minLength: config.IDENTITY_PASSWORD_MIN_LENGTH,
      extraFile: config.IDENTITY_PASSWORD_BLOCKLIST_FILE,
    });
    return new PasswordPolicy(
      config.IDENTITY_PASSWORD_MIN_LENGTH,
      config.IDENTITY_PASSWORD_MAX_LENGTH,
      blocklist,
    );
  }

  /** Entries in the blocklist (for the boot log). */
  get blocklistSize(): number {
    return this.blocklist.size;
  }

  /**
   * Checks a new password. `identifiers` are the account's username, email address and the like:
   * the password may not equal any of them (ignoring case), nor an email address's local part.
   */
  check(password: string, identifiers: readonly (string | undefined)[] = []): PasswordVerdict {
    const normalized = normalizePassword(password);
    const length = codePointLength(normalized);
    const refuse = (reason: PasswordRejection): PasswordVerdict => ({
      ok: false,
      reason,
      minLength: this.minLength,
      maxLength: this.maxLength,
    });
    if (length < this.minLength) return refuse('too-short');
    if (length > this.maxLength) return refuse('too-long');
    const key = blocklistKey(normalized);
    if (identifierKeys(identifiers).has(key)) return refuse('matches-identifier');
    if (this.blocklist.has(key)) return refuse('common');
    return { ok: true };
  }
}

function identifierKeys(identifiers: readonly (string | undefined)[]): Set<string> {
  const keys = new Set<string>();
  for (const identifier of identifiers) {
    if (!identifier) continue;
    const key = blocklistKey(identifier.trim());
    keys.add(key);
    const at = key.lastIndexOf('@');
    if (at > 0) keys.add(key.slice(0, at));
  }
  return keys;
}
