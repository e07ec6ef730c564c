import { describe, expect, it } from '@jest/globals';
import { POSTGRES_INTEGER_MAX } from '../../database/limits.js';
import { updateKeyRequest, verifyMacRequest, versionRequest } from './keys.dto.js';

// Found by schemathesis: a key version beyond the PostgreSQL integer column reached the query and
// failed there as a 500; it is a 400 now, like any other bad field.
describe('key versions in requests', () => {
  it('accepts the largest version a key can have', () => {
    expect(versionRequest.safeParse({ version: POSTGRES_INTEGER_MAX }).success).toBe(true);
    expect(
      verifyMacRequest.safeParse({ message: '', mac: '', keyVersion: POSTGRES_INTEGER_MAX })
        .success,
    ).toBe(true);
  });

  it('refuses a version beyond the PostgreSQL integer column', () => {
    const beyond = POSTGRES_INTEGER_MAX + 1;
    expect(versionRequest.safeParse({ version: beyond }).success).toBe(false);
    expect(verifyMacRequest.safeParse({ message: '', mac: '', keyVersion: beyond }).success).toBe(
      false,
    );
    expect(updateKeyRequest.safeParse({ minDecryptionVersion: beyond }).success).toBe(false);
  });
});
