import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPair,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
  type JsonWebKey,
} from 'node:crypto';
import { promisify } from 'node:util';

const generatePair = promisify(generateKeyPair);

export const PURPOSES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'MAC', 'WRAP'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export type Algorithm = 'AES_256_GCM' | SigningAlgorithm | 'HMAC_SHA256' | 'ECDH_ES_P256';

/** What a new version holds: secret material (wrapped by the root before storage), a public key, or both. */
export interface NewMaterial {
  secret: Buffer | null;
  /** SubjectPublicKeyInfo, DER. */
  publicKey: Buffer | null;
}

const RSA_MODULUS_BITS = 3072;

/**
 * Material for a new version of a key of `algorithm`. WRAP keys are recipients' public keys for
 * end-to-end encryption: the service never sees their private half, so the caller supplies it.
 */
export async function generateMaterial(
  algorithm: Algorithm,
  recipientKey?: JsonWebKey,
): Promise<NewMaterial> {
  switch (algorithm) {
    case 'AES_256_GCM':
    case 'HMAC_SHA256':
      return { secret: randomBytes(32), publicKey: null };
    case 'ES256':
      return pair(await generatePair('ec', { namedCurve: 'P-256' }));
    case 'EdDSA':
      return pair(await generatePair('ed25519'));
    case 'PS256':
    case 'RS256':
      // Off the event loop: a 3072-bit RSA key takes a noticeable fraction of a second.
      return pair(await generatePair('rsa', { modulusLength: RSA_MODULUS_BITS }));
    case 'ECDH_ES_P256':
      if (!recipientKey) throw new Error('a WRAP key version needs the recipient public key');
      return {
        secret: null,
        publicKey: createPublicKey({ key: recipientKey, format: 'jwk' }).export({
          type: 'spki',
          format: 'der',
        }),
      };
  }
}

function pair({ privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject }) {
  return {
    secret: privateKey.export({ type: 'pkcs8', format: 'der' }),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** The usable key object for an unwrapped version's secret. */
export function importSecret(algorithm: Algorithm, secret: Buffer): KeyObject {
  return algorithm === 'AES_256_GCM' || algorithm === 'HMAC_SHA256'
    ? createSecretKey(secret)
    : createPrivateKey({ key: secret, format: 'der', type: 'pkcs8' });
}

/** A version's public key as a JWK (signing and WRAP keys), for callers to verify or encrypt with. */
export function publicJwk(algorithm: Algorithm, spki: Buffer, kid: string): JsonWebKey {
  const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const alg = algorithm === 'ECDH_ES_P256' ? 'ECDH-ES+A256KW' : algorithm;
  return { ...jwk, kid, alg, use: algorithm === 'ECDH_ES_P256' ? 'enc' : 'sig' };
}

/** Whether a JWK is an acceptable WRAP recipient key: a public P-256 key, nothing private. */
export function isRecipientPublicKey(jwk: JsonWebKey): boolean {
  if (jwk.d !== undefined || jwk.kty !== 'EC' || jwk.crv !== 'P-256') return false;
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

/**
 * node:crypto parameters per signing algorithm. ECDSA signatures use the JOSE encoding (r || s,
 * 64 bytes) so they drop straight into a JWS; RSA-PSS uses a salt as long as the digest (RFC 7518).
 */
function signingOptions(algorithm: SigningAlgorithm, key: KeyObject) {
  switch (algorithm) {
    case 'ES256':
      return { digest: 'sha256', key: { key, dsaEncoding: 'ieee-p1363' as const } };
    case 'EdDSA':
      return { digest: null, key: { key } };
    case 'PS256':
      return {
        digest: 'sha256',
        key: { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 },
      };
    case 'RS256':
      return { digest: 'sha256', key: { key } };
  }
}

/**
 * Signs on libuv's thread pool (the callback form of crypto.sign), so public-key operations use
 * the machine's other cores while the event loop serves HTTP.
 */
export function signMessage(
  algorithm: SigningAlgorithm,
  key: KeyObject,
  message: Buffer,
): Promise<Buffer> {
  const options = signingOptions(algorithm, key);
  return new Promise((resolve, reject) =>
    sign(options.digest, message, options.key, (error, signature) =>
      error ? reject(error) : resolve(signature),
    ),
  );
}

export function verifySignature(
  algorithm: SigningAlgorithm,
  publicKey: KeyObject,
  message: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const options = signingOptions(algorithm, publicKey);
  return new Promise((resolve) =>
    // A signature of the wrong length or shape is simply not valid.
    verify(options.digest, message, options.key, signature, (error, valid) =>
      resolve(!error && valid),
    ),
  );
}

export function macMessage(key: KeyObject, message: Buffer): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

export function verifyMac(key: KeyObject, message: Buffer, mac: Buffer): boolean {
  const expected = macMessage(key, message);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}

export function importPublic(spki: Buffer): KeyObject {
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}
