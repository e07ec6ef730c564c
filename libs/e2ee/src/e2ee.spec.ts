import { describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import {
  E2eeError,
  fingerprint,
  fromBase64,
  generateWrapKeyPair,
  open,
  seal,
  toBase64,
  toPublicWrapJwk,
  unwrap,
  utf8,
  wrapFor,
} from './index.js';

const OBJECT = '0b0f8c52-6a43-4c4e-9d4e-3f3e8a0c2a11';

describe('e2ee (WebCrypto in Node)', () => {
  it('seals to opaque bytes and opens only for the same object and key', async () => {
    const plaintext = utf8.encode('diagnosis: none of your business');
    const { ciphertext, dataKey } = await seal(plaintext, OBJECT);
    expect(ciphertext[0]).toBe(1);
    expect(toBase64(ciphertext)).not.toContain(toBase64(plaintext).slice(0, 12));
    expect(utf8.decode(await open(ciphertext, OBJECT, dataKey))).toBe(
      'diagnosis: none of your business',
    );

    const again = await seal(plaintext, OBJECT, dataKey);
    expect(again.dataKey).toBe(dataKey);
    expect(again.ciphertext).not.toEqual(ciphertext); // a fresh IV each time

    const tampered = ciphertext.slice();
    tampered[tampered.length - 1]! ^= 1;
    const other = await seal(plaintext, OBJECT);
    for (const attempt of [
      () => open(ciphertext, 'another-object', dataKey),
      () => open(tampered, OBJECT, dataKey),
      () => open(ciphertext, OBJECT, other.dataKey),
      () => open(ciphertext.subarray(0, 20), OBJECT, dataKey),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ name: 'E2eeError', code: 'open-failed' });
    }
  });

  it('wraps a data key to a recipient public key as an ECDH-ES+A256KW / A256GCM JWE', async () => {
    const alice = await generateWrapKeyPair();
    const bob = await generateWrapKeyPair();
    const { ciphertext, dataKey } = await seal(utf8.encode('for bob'), OBJECT);

    const jwe = await wrapFor(dataKey, bob.publicJwk);
    expect(jwe.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(jwe)).toMatchObject({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      kid: bob.fingerprint,
      epk: { kty: 'EC', crv: 'P-256' },
    });

    const bobsKey = await unwrap(jwe, bob.privateKey);
    expect(utf8.decode(await open(ciphertext, OBJECT, bobsKey))).toBe('for bob');
    await expect(unwrap(jwe, alice.privateKey)).rejects.toMatchObject({ code: 'unwrap-failed' });
    await expect(unwrap(`${jwe}x`, bob.privateKey)).rejects.toMatchObject({
      code: 'unwrap-failed',
    });

    const readOnly = await unwrap(jwe, bob.privateKey, { extractable: false });
    await expect(crypto.subtle.exportKey('raw', readOnly)).rejects.toThrow();
  });

  it('keeps the private WRAP key non-extractable and exports only public members', async () => {
    const pair = await generateWrapKeyPair();
    expect(pair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', pair.privateKey)).rejects.toThrow();
    expect(Object.keys(pair.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(pair.fingerprint).toBe(await fingerprint(pair.publicJwk));
    expect(pair.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses private, foreign-curve and malformed JWKs as WRAP keys', async () => {
    const extractable = await crypto.subtle.generateKey(
      { name: 'ECDH', namedCurve: 'P-256' },
      true,
      ['deriveBits'],
    );
    const privateJwk = await crypto.subtle.exportKey('jwk', extractable.privateKey);
    expect(() => toPublicWrapJwk(privateJwk)).toThrow(E2eeError);
    const { d: _d, ...publicJwk } = privateJwk;
    expect(() => toPublicWrapJwk({ ...publicJwk, crv: 'P-384' })).toThrow(/P-256/);
    expect(() => toPublicWrapJwk({ ...publicJwk, x: 'short' })).toThrow(/32 bytes/);
    expect(toPublicWrapJwk({ ...publicJwk, key_ops: [] })).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: publicJwk.x,
      y: publicJwk.y,
    });
  });

  it('encodes base64 without Buffer, large inputs included', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
  });
});
