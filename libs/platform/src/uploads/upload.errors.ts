import { RampartError } from '../errors/rampart-error.js';
import type { UploadPolicy } from './upload-policy.js';

/*
 * Every refusal says what the client can fix and nothing about how the check works inside:
 * a polyglot is "content of another kind", not which marker matched at which offset.
 */

export const uploadTooLarge = (maxBytes: number) =>
  new RampartError('payload-too-large', `The file is larger than ${maxBytes} bytes.`, {
    maxBytes,
  });

export const uploadTypeNotAllowed = (policy: UploadPolicy) =>
  new RampartError('unsupported-media-type', 'The file is not of a type accepted here.', {
    allowedTypes: policy.allowedTypes,
  });

export const uploadTypeMismatch = (what: 'extension' | 'content-type') =>
  new RampartError(
    'unsupported-media-type',
    what === 'extension'
      ? "The file name's extension does not match the file's content."
      : "The declared Content-Type does not match the file's content.",
  );

export const uploadPolyglot = () =>
  new RampartError(
    'unsupported-media-type',
    'The file carries content of another kind besides its own type.',
  );

export const uploadNameInvalid = (detail: string) => new RampartError('bad-request', detail);

export const uploadEmpty = () => new RampartError('bad-request', 'The file is empty.');

export const uploadIncomplete = (cause: unknown) =>
  new RampartError('bad-request', 'The file could not be read to its end.', {}, { cause });
