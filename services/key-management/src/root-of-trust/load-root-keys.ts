import { readFile } from 'node:fs/promises';
import { assertPrivateFile } from '@rampart/platform';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { Pkcs11RootKey } from './pkcs11-root-key.js';
import { FileRootKey, type RootKey } from './root-key.js';
import { RootKeyring } from './root-keyring.js';

type RootKeyConfig = Pick<
  KeyManagementConfig,
  | 'KMS_ROOT_KEY_FILE'
  | 'KMS_PKCS11_LIBRARY'
  | 'KMS_PKCS11_SLOT'
  | 'KMS_PKCS11_TOKEN_LABEL'
  | 'KMS_PKCS11_PIN_FILE'
  | 'KMS_PKCS11_KEY_LABEL'
  | 'KMS_PREVIOUS_ROOT_KEY_FILES'
  | 'KMS_PREVIOUS_PKCS11_KEY_LABELS'
>;

async function readPin(path: string): Promise<string> {
  await assertPrivateFile(path);
  return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
}

/**
 * Opens the configured root keys (the config schema has checked that exactly one source names the
 * current key). Anything wrong (a loose file mode, a missing token or key, a key that could leave
 * its token) stops the service before it serves a request.
 */
export async function loadRootKeys(config: RootKeyConfig): Promise<RootKeyring> {
  const opened: RootKey[] = [];
  try {
    const pin = config.KMS_PKCS11_PIN_FILE ? await readPin(config.KMS_PKCS11_PIN_FILE) : '';
    const fromToken = async (keyLabel: string) =>
      Pkcs11RootKey.open({
        library: config.KMS_PKCS11_LIBRARY!,
        ...(config.KMS_PKCS11_SLOT !== undefined
          ? { slot: config.KMS_PKCS11_SLOT }
          : { tokenLabel: config.KMS_PKCS11_TOKEN_LABEL! }),
        pin,
        keyLabel,
      });
    const current = config.KMS_ROOT_KEY_FILE
      ? await FileRootKey.open(config.KMS_ROOT_KEY_FILE)
      : await fromToken(config.KMS_PKCS11_KEY_LABEL!);
    opened.push(current);
    for (const path of config.KMS_PREVIOUS_ROOT_KEY_FILES ?? []) {
      opened.push(await FileRootKey.open(path));
    }
    for (const label of config.KMS_PREVIOUS_PKCS11_KEY_LABELS ?? []) {
      opened.push(await fromToken(label));
    }
    return new RootKeyring(current, opened.slice(1));
  } catch (error) {
    await Promise.allSettled(opened.map((key) => key.close()));
    throw error;
  }
}
