import { utf8 } from './encoding.js';
import { E2eeError } from './errors.js';
import type { WebCryptoKey } from './web-crypto.js';

/**
 * Sealed data: 0x01 | iv (12 bytes) | AES-256-GCM ciphertext and tag. The object's id is the
 * associated data, so a ciphertext moved to another object (or a data key of another object)
 * does not open.
 */
const FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A fresh 256-bit data key. Extractable, because it must be wrapped for each recipient; it lives
 * only in the memory of the devices that encrypt or decrypt.
 */
export function generateDataKey(): Promise<WebCryptoKey> {
  return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
}

function associatedData(objectId: string): Uint8Array<ArrayBuffer> {
  return utf8.encode(`rampart.e2ee.object:${objectId}`);
}

/** Encrypts under `dataKey`, or under a new data key when none is given (then returned). */
export async function seal(
  plaintext: Uint8Array<ArrayBuffer>,
  objectId: string,
  dataKey?: WebCryptoKey,
): Promise<{ ciphertext: Uint8Array<ArrayBuffer>; dataKey: WebCryptoKey }> {
  const key = dataKey ?? (await generateDataKey());
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(objectId) },
    key,
    plaintext,
  );
  const ciphertext = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
  ciphertext[0] = FORMAT;
  ciphertext.set(iv, 1);
  ciphertext.set(new Uint8Array(sealed), 1 + IV_BYTES);
  return { ciphertext, dataKey: key };
}

/** Decrypts what `seal` made for the same object; any mismatch or tampering is one error. */
export async function open(
  ciphertext: Uint8Array<ArrayBuffer>,
  objectId: string,
  dataKey: WebCryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT) {
    throw new E2eeError('open-failed', 'Not a sealed object.');
  }
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: ciphertext.subarray(1, 1 + IV_BYTES),
        additionalData: associatedData(objectId),
      },
      dataKey,
      ciphertext.subarray(1 + IV_BYTES),
    );
    return new Uint8Array(plaintext);
  } catch (cause) {
    throw new E2eeError('open-failed', 'The object could not be decrypted with this key.', {
      cause,
    });
  }
}
