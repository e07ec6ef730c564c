import { calculateJwkThumbprint, type JWK } from 'jose';
import { E2eeError } from './errors.js';
import type { WebCryptoKey } from './web-crypto.js';

/** A user's public WRAP key as registered with the server: an ECDH P-256 public JWK. */
export interface PublicWrapJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/**
 * A user's WRAP key pair. The private key is a non-extractable CryptoKey: script on the page can
 * use it to unwrap, but cannot read or send its bytes anywhere (it can be kept in IndexedDB as is).
 */
export interface WrapKeyPair {
  privateKey: WebCryptoKey;
  publicJwk: PublicWrapJwk;
  /** RFC 7638 SHA-256 thumbprint of the public key: its `kid`, and what users compare to verify it. */
  fingerprint: string;
}

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' } as const;
const COORDINATE = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding

export async function generateWrapKeyPair(): Promise<WrapKeyPair> {
  const pair = await crypto.subtle.generateKey(ECDH_P256, false, ['deriveBits']);
  // Public keys stay exportable whatever `extractable` says.
  const publicJwk = toPublicWrapJwk(await crypto.subtle.exportKey('jwk', pair.publicKey));
  return { privateKey: pair.privateKey, publicJwk, fingerprint: await fingerprint(publicJwk) };
}

/**
 * Only the four public members, checked: a JWK carrying `d` (a private key) or another curve is
 * refused rather than silently trimmed, so a caller's mistake never reaches the server.
 */
export function toPublicWrapJwk(jwk: JWK): PublicWrapJwk {
  if ('d' in jwk) throw new E2eeError('invalid-public-key', 'This is a private key.');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') {
    throw new E2eeError('invalid-public-key', 'A WRAP key is an EC P-256 key.');
  }
  if (!COORDINATE.test(jwk.x ?? '') || !COORDINATE.test(jwk.y ?? '')) {
    throw new E2eeError('invalid-public-key', 'x and y must be 32 bytes, base64url.');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! };
}

/** The key's RFC 7638 thumbprint (SHA-256, base64url): short enough to compare out of band. */
export function fingerprint(publicJwk: PublicWrapJwk): Promise<string> {
  return calculateJwkThumbprint(publicJwk, 'sha256');
}
