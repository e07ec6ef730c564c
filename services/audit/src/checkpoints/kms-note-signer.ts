import { createPublicKey } from 'node:crypto';
import type { KmsClient } from '@rampart/platform';
import type { NoteSigner } from '../transparency/checkpoint.js';

/**
 * A signed-note signer whose Ed25519 private key lives in key-management: the key `keyName`
 * (purpose SIGN_VERIFY, algorithm EdDSA) in the audit service's own key ring, created on first
 * use. Only its public key is read; every signature is a KMS `sign` call. `noteName` is the key's
 * name in the notes (the log's origin).
 */
export async function kmsNoteSigner(
  kms: KmsClient,
  keyName: string,
  noteName: string,
): Promise<NoteSigner> {
  await kms.createSigningKey(keyName, 'EdDSA');
  const { primaryVersion, versions } = await kms.publicKeys(keyName);
  const jwk = versions.find((entry) => entry.version === primaryVersion)?.publicKey;
  if (!jwk) throw new Error(`the KMS key ${keyName} has no public key for its primary version`);
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the KMS key ${keyName} is not an Ed25519 (EdDSA) key`);
  }
  return {
    name: noteName,
    publicKey,
    async sign(message) {
      const { signature, keyVersion } = await kms.sign(keyName, message);
      // A rotation since start would sign with a key the published verifier key does not name.
      if (keyVersion !== primaryVersion) {
        throw new Error(
          `the KMS key ${keyName} was rotated (version ${keyVersion}); restart to publish its new verifier key`,
        );
      }
      return signature;
    },
  };
}
