import { RampartError, ValidationFailedError } from '@rampart/platform';

export const wrapKeyNotFound = (user: string) =>
  new RampartError('not-found', `${user} has registered no WRAP key.`);

/** Also the answer for objects the caller may not read: existence is not disclosed. */
export const objectNotFound = (id: string) =>
  new RampartError('not-found', `Shared object ${id} does not exist.`);

export const objectExists = (id: string) =>
  new RampartError('conflict', `Shared object ${id} already exists.`);

export const ownerOnly = (id: string) =>
  new RampartError('forbidden', `Only the owner of ${id} may change who reads it.`);

export const staleVersion = (id: string, expected: number, actual: number) =>
  new RampartError(
    'conflict',
    `Shared object ${id} is at version ${actual}, not ${expected}: read it again and retry.`,
    { version: actual },
  );

export const ciphertextTooLarge = (limit: number) =>
  new RampartError('payload-too-large', `The ciphertext exceeds ${limit} bytes.`);

/** A field that passed the schema but fails a check of its content (a JWE's header, a ciphertext's shape). */
export const invalidInput = (path: string, message: string) =>
  new ValidationFailedError([{ path, message }]);

export const readersMismatch = (detail: string) => new RampartError('failed-precondition', detail);

export const alreadyReader = (user: string, id: string) =>
  new RampartError('conflict', `${user} can already read ${id}.`);
