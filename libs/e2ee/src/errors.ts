/**
 * Why a local cryptographic step failed. Decryption failures are deliberately not told apart
 * (wrong key, wrong object, tampered bytes): the caller can do nothing different for each.
 */
export type E2eeErrorCode =
  'open-failed' | 'unwrap-failed' | 'invalid-public-key' | 'fingerprint-mismatch';

export class E2eeError extends Error {
  constructor(
    readonly code: E2eeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'E2eeError';
  }
}
