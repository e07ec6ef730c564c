import { describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, CompactEncrypt } from 'jose';
import {
  loadWorkloadDecryptionKey,
  loadWorkloadEncryptionKey,
  WORKLOAD_CONTENT_ENCRYPTION,
  WORKLOAD_ENCRYPTION_ALGORITHM,
} from './workload-encryption.js';
import { ensureWorkloadKeys, loadWorkloadVerifier } from './workload-identity.js';

describe('workload encryption keys', () => {
  it('are created beside the signing keys, private 0600 and public in the trust folder', async () => {
    const directory = join(await mkdtemp(join(tmpdir(), 'rampart-enc-')), 'workload');
    const keys = await ensureWorkloadKeys(directory, ['identity', 'audit']);
    expect((await readdir(keys.trustDir)).sort()).toEqual([
      'audit.enc.pub.jwk',
      'audit.pub.jwk',
      'identity.enc.pub.jwk',
      'identity.pub.jwk',
    ]);
    expect((await stat(keys.encryptionKeyFile('identity'))).mode & 0o777).toBe(0o600);
    const published = JSON.parse(
      await readFile(join(keys.trustDir, 'identity.enc.pub.jwk'), 'utf8'),
    ) as Record<string, unknown>;
    expect(published).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'enc' });
    expect(published).not.toHaveProperty('d');
    // The signing allowlist ignores encryption keys.
    const verifier = await loadWorkloadVerifier('audit', keys.trustDir);
    expect(verifier).toBeDefined();

    // Only the holder of the private half opens what is encrypted to the public half.
    const recipient = (await loadWorkloadEncryptionKey(keys.trustDir, 'identity'))!;
    const identity = await loadWorkloadDecryptionKey(keys.encryptionKeyFile('identity'));
    const audit = await loadWorkloadDecryptionKey(keys.encryptionKeyFile('audit'));
    expect(identity.kid).toBe(recipient.kid);
    const jwe = await new CompactEncrypt(new TextEncoder().encode('for identity'))
      .setProtectedHeader({ alg: WORKLOAD_ENCRYPTION_ALGORITHM, enc: WORKLOAD_CONTENT_ENCRYPTION })
      .encrypt(recipient.key);
    expect(new TextDecoder().decode((await compactDecrypt(jwe, identity.key)).plaintext)).toBe(
      'for identity',
    );
    await expect(compactDecrypt(jwe, audit.key)).rejects.toThrow();
    expect(await loadWorkloadEncryptionKey(keys.trustDir, 'consent')).toBeUndefined();
  });

  it('are added to a folder from before they existed, keeping the signing keys', async () => {
    const directory = join(await mkdtemp(join(tmpdir(), 'rampart-enc-')), 'workload');
    const first = await ensureWorkloadKeys(directory, ['identity']);
    const signingKey = await readFile(first.keyFile('identity'), 'utf8');
    await rm(first.encryptionKeyFile('identity'));
    await rm(join(first.trustDir, 'identity.enc.pub.jwk'));
    const again = await ensureWorkloadKeys(directory, ['identity']);
    expect(await readFile(again.keyFile('identity'), 'utf8')).toBe(signingKey);
    const created = await loadWorkloadDecryptionKey(again.encryptionKeyFile('identity'));
    const unchanged = await ensureWorkloadKeys(directory, ['identity']);
    expect((await loadWorkloadDecryptionKey(unchanged.encryptionKeyFile('identity'))).kid).toBe(
      created.kid,
    );
  });

  it('refuses a private key file others can read', async () => {
    const directory = join(await mkdtemp(join(tmpdir(), 'rampart-enc-')), 'workload');
    const keys = await ensureWorkloadKeys(directory, ['identity']);
    await chmod(keys.encryptionKeyFile('identity'), 0o644);
    await expect(loadWorkloadDecryptionKey(keys.encryptionKeyFile('identity'))).rejects.toThrow(
      /must be 0600/,
    );
  });
});
