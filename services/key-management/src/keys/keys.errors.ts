import { RampartError } from '@rampart/platform';

export const keyNotFound = (name: string) =>
  new RampartError('not-found', `Key ${name} does not exist.`);

export const keyExists = (name: string) =>
  new RampartError('conflict', `Key ${name} already exists.`);

export const versionUnavailable = (name: string, version: number, state: string) =>
  new RampartError(
    'failed-precondition',
    `Version ${version} of key ${name} is ${state.toLowerCase()}.`,
  );

/**
 * One answer for every decryption failure (wrong associated data, tampered bytes, a key that
 * never made this ciphertext): telling them apart would give an attacker an oracle.
 */
export const decryptionFailed = () =>
  new RampartError(
    'decryption-failed',
    'The ciphertext could not be decrypted with this key and associated data.',
  );
