import { RampartError } from '@rampart/platform';

export const keyNotFound = (name: string) =>
  new RampartError('not-found', `Key ${name} does not exist.`);

export const keyExists = (name: string) =>
  new RampartError('conflict', `Key ${name} already exists.`);

export const versionNotFound = (name: string, version: number) =>
  new RampartError('not-found', `Key ${name} has no version ${version}.`);

export const versionUnavailable = (name: string, version: number, state: string) =>
  new RampartError(
    'failed-precondition',
    `Version ${version} of key ${name} is ${state.toLowerCase().replaceAll('_', ' ')}.`,
  );

export const keyDestroyed = (name: string, version: number) =>
  new RampartError(
    'key-destroyed',
    `Version ${version} of key ${name} was destroyed: what it protected cannot be recovered.`,
  );

export const wrongPurpose = (name: string, purpose: string, operation: string) =>
  new RampartError(
    'failed-precondition',
    `Key ${name} has purpose ${purpose}, which does not allow ${operation}.`,
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
