import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** What every pseudonym starts with, so nobody mistakes one for the identifier it stands for. */
export const PSEUDONYM_PREFIX = 'ps_';

/** HMAC-SHA256 output kept: 192 bits, far beyond any collision among a log's identifiers. */
const PSEUDONYM_BYTES = 24;

/**
 * Keyed pseudonyms of identifiers (ADR 0024): `ps_` + base64url of the first 24 bytes of
 * HMAC-SHA256(key, tenant NUL identifier). The same identifier of the same tenant always gives the
 * same pseudonym under one key, so records of a person stay linkable and queryable, but nobody
 * without the key can compute or reverse one. Computed in process: no KMS call per identifier.
 * NUL separates the two unambiguously because a tenant never holds one (the record's `tenant_uid`
 * replaces it, and the query's tenant comes from the environment, which cannot hold it).
 */
export class Pseudonyms {
  private readonly key: KeyObject;

  /** `secret` is copied into a key object; the caller zeroes its buffer. */
  constructor(
    /** The id of the key in `audit_pseudonym_keys`, written into every record it pseudonymised. */
    readonly keyId: number,
    secret: Buffer,
  ) {
    this.key = createSecretKey(secret);
  }

  of(tenant: string, identifier: string): string {
    const mac = createHmac('sha256', this.key)
      .update(tenant, 'utf8')
      .update('\u0000', 'utf8')
      .update(identifier, 'utf8')
      .digest();
    return PSEUDONYM_PREFIX + mac.subarray(0, PSEUDONYM_BYTES).toString('base64url');
  }
}
