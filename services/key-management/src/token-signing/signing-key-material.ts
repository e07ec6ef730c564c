import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type GenerateKeyPairOptions,
  type JWK,
} from 'jose';
import type { TokenSigningAlgorithm } from '@rampart/contracts';
import type { WrappedTable } from '../root-of-trust/wrapped-tables.js';

/** RSA at 3072 bits, like the service's SIGN_VERIFY keys (ADR 0007). */
const KEY_OPTIONS: Record<TokenSigningAlgorithm, GenerateKeyPairOptions> = {
  ES256: {},
  EdDSA: { crv: 'Ed25519' },
  RS256: { modulusLength: 3072 },
  PS256: { modulusLength: 3072 },
};

export interface GeneratedSigningKey {
  /** RFC 7638 thumbprint of the public key: unique, and checkable by anyone holding the key. */
  kid: string;
  publicJwk: JWK;
  /** The private JWK serialised; the caller wraps it and then wipes this buffer. */
  privateJwk: Buffer;
}

/** A fresh key pair for `algorithm`, labelled with its kid, algorithm and use. */
export async function generateSigningKey(
  algorithm: TokenSigningAlgorithm,
): Promise<GeneratedSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(algorithm, {
    ...KEY_OPTIONS[algorithm],
    extractable: true,
  });
  const bare = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(bare);
  const labels = { kid, alg: algorithm, use: 'sig' };
  return {
    kid,
    publicJwk: { ...bare, ...labels },
    privateJwk: Buffer.from(JSON.stringify({ ...(await exportJWK(privateKey)), ...labels })),
  };
}

/** What a token-signing private key is bound to when wrapped by the root key. */
export function tokenSigningKeyBinding(kid: string): string {
  return `rampart.kms.token-signing-key:${kid}`;
}

/** The table for root rotation: its rows are rewrapped under the same binding. */
export const TOKEN_SIGNING_KEYS_TABLE: WrappedTable = {
  table: 'token_signing_keys',
  keyColumns: ['kid'],
  materialColumn: 'wrapped_private_jwk',
  binding: (row) => tokenSigningKeyBinding(String(row['kid'])),
};
