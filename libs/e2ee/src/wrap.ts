import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';
import { E2eeError } from './errors.js';
import { fingerprint, toPublicWrapJwk, type PublicWrapJwk } from './wrap-keys.js';
import type { WebCryptoKey } from './web-crypto.js';

/** The only JWE algorithms produced or accepted: ECDH-ES key agreement, AES key wrap, AES-GCM. */
export const WRAP_ALGORITHM = 'ECDH-ES+A256KW';
export const WRAP_ENCRYPTION = 'A256GCM';
const DATA_KEY_BYTES = 32;

/**
 * The data key wrapped to one recipient's public WRAP key: a compact JWE whose payload is the raw
 * key and whose `kid` names the recipient key (its thumbprint unless told otherwise), so a JWE made
 * for a key the recipient has since replaced is recognisable.
 */
export async function wrapFor(
  dataKey: WebCryptoKey,
  recipientPublicJwk: PublicWrapJwk,
  kid?: string,
): Promise<string> {
  const jwk = toPublicWrapJwk(recipientPublicJwk);
  const recipientKey = await importJWK({ ...jwk }, WRAP_ALGORITHM);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', dataKey));
  try {
    return await new CompactEncrypt(raw)
      .setProtectedHeader({
        alg: WRAP_ALGORITHM,
        enc: WRAP_ENCRYPTION,
        kid: kid ?? (await fingerprint(jwk)),
      })
      .encrypt(recipientKey);
  } finally {
    raw.fill(0);
  }
}

/**
 * The data key inside a JWE wrapped to this private key. Extractable, so its holder can wrap it
 * for someone else (sharing); pass `extractable: false` when the key only needs to decrypt.
 */
export async function unwrap(
  jwe: string,
  privateKey: WebCryptoKey,
  options: { extractable?: boolean } = {},
): Promise<WebCryptoKey> {
  let raw: Uint8Array;
  try {
    ({ plaintext: raw } = await compactDecrypt(jwe, privateKey, {
      keyManagementAlgorithms: [WRAP_ALGORITHM],
      contentEncryptionAlgorithms: [WRAP_ENCRYPTION],
    }));
  } catch (cause) {
    throw new E2eeError('unwrap-failed', 'The wrapped key could not be opened with this key.', {
      cause,
    });
  }
  try {
    if (raw.length !== DATA_KEY_BYTES) {
      throw new E2eeError('unwrap-failed', 'The wrapped key is not a 256-bit data key.');
    }
    return await crypto.subtle.importKey(
      'raw',
      raw as Uint8Array<ArrayBuffer>,
      { name: 'AES-GCM' },
      options.extractable ?? true,
      ['encrypt', 'decrypt'],
    );
  } finally {
    raw.fill(0);
  }
}
