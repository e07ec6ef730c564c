import { RampartError } from '@rampart/platform';
import { encryptionPublicKeyFileName } from '@rampart/platform';

/** The caller's keys can only travel encrypted to it: without its public encryption key, not at all. */
export const noEncryptionKey = (caller: string) =>
  new RampartError(
    'failed-precondition',
    `Workload ${caller} has no encryption key in the trust folder (${encryptionPublicKeyFileName(caller)}).`,
  );
