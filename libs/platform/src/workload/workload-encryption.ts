import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { assertPrivateFile } from './private-file.js';

/**
 * A workload's encryption key pair, beside its Ed25519 signing key: other services encrypt to the
 * public half (a JWE with ECDH-ES key agreement), so a secret meant for one service, such as
 * identity's token-signing keys, travels readable by that service alone. P-256 rather than X25519
 * because it is FIPS-approved for key agreement and every JOSE library and HSM supports it.
 */
export const WORKLOAD_ENCRYPTION_ALGORITHM = 'ECDH-ES+A256KW';
export const WORKLOAD_CONTENT_ENCRYPTION = 'A256GCM';
const CURVE = 'P-256';

/** `<service>.enc.jwk` in the private folder. */
export function encryptionKeyFileName(service: string): string {
  return `${service}.enc.jwk`;
}

/** `<service>.enc.pub.jwk` in the trust folder (the signing allowlist ignores it). */
export function encryptionPublicKeyFileName(service: string): string {
  return `${service}.enc.pub.jwk`;
}

export interface WorkloadEncryptionKey {
  /** RFC 7638 thumbprint of the public key: JWEs to this key carry it as `kid`. */
  readonly kid: string;
  readonly key: CryptoKey;
}

async function present(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Creates the encryption key pair of `service` unless both halves exist (a private key without its
 * public half could never be encrypted to).
 */
export async function ensureWorkloadEncryptionKey(
  privateDir: string,
  trustDir: string,
  service: string,
): Promise<void> {
  const privateFile = join(privateDir, encryptionKeyFileName(service));
  const publicFile = join(trustDir, encryptionPublicKeyFileName(service));
  if ((await present(privateFile)) && (await present(publicFile))) return;
  const { privateKey, publicKey } = await generateKeyPair(WORKLOAD_ENCRYPTION_ALGORITHM, {
    crv: CURVE,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const labels = { kid, alg: WORKLOAD_ENCRYPTION_ALGORITHM, use: 'enc' };
  await writeFile(privateFile, JSON.stringify({ ...(await exportJWK(privateKey)), ...labels }), {
    mode: 0o600,
  });
  await writeFile(publicFile, JSON.stringify({ ...publicJwk, ...labels }), { mode: 0o644 });
}

async function importEncryptionKey(jwk: JWK, file: string): Promise<WorkloadEncryptionKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== CURVE) throw new Error(`${file} is not a ${CURVE} key`);
  const { d: _private, ...publicPart } = jwk;
  return {
    // From the public members only, so both halves name the same kid.
    kid: await calculateJwkThumbprint(publicPart),
    key: (await importJWK(jwk, WORKLOAD_ENCRYPTION_ALGORITHM)) as CryptoKey,
  };
}

/** The service's private encryption key (a JWK file only its owner may read). */
export async function loadWorkloadDecryptionKey(keyFile: string): Promise<WorkloadEncryptionKey> {
  await assertPrivateFile(keyFile);
  const jwk = JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
  if (!jwk.d) throw new Error(`${keyFile} does not hold a private key`);
  return importEncryptionKey(jwk, keyFile);
}

/** The public encryption key of `service` from the trust folder; undefined when it has none. */
export async function loadWorkloadEncryptionKey(
  trustDir: string,
  service: string,
): Promise<WorkloadEncryptionKey | undefined> {
  const file = join(trustDir, encryptionPublicKeyFileName(service));
  if (!(await present(file))) return undefined;
  const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  if (jwk.d) throw new Error(`${file} in the workload trust folder holds a private key`);
  return importEncryptionKey(jwk, file);
}
