import type { EncryptionContext } from '../kms/envelope-format.js';
import type { EncryptOptions, EnvelopeEncryption } from '../kms/envelope-encryption.js';
import type { AcceptedUpload } from './accept-upload.js';
import type { UploadType } from './upload-policy.js';

/** Context keys this module owns; a caller's context may not set them. */
const NAME_KEY = 'upload.name';
const TYPE_KEY = 'upload.type';

/** What a service stores for an upload: the envelope and the metadata needed to open it. */
export interface SealedUpload {
  readonly name: string;
  readonly type: UploadType;
  /** Bytes of the file itself, not of the envelope. */
  readonly size: number;
  readonly envelope: Buffer;
}

/** The data category and key of `EnvelopeEncryption.encrypt`, plus the caller's own context. */
export type SealUploadOptions = EncryptOptions;

/**
 * Encrypts an accepted upload under a data key from key-management. The stored name and the
 * detected type are part of the encryption context, so an envelope opens only together with the
 * metadata it was sealed with: swapping a stored row's name or type (to serve a PDF as
 * "invoice.html", or one user's file under another's name) makes opening fail. Add what the
 * file belongs to (an owner, a record id) to `context` to bind that too.
 */
export async function sealUpload(
  encryption: EnvelopeEncryption,
  upload: AcceptedUpload,
  options: SealUploadOptions,
): Promise<SealedUpload> {
  const context = uploadContext(upload, options.context);
  const envelope = await encryption.encrypt(upload.bytes, { ...options, context });
  return { name: upload.name, type: upload.type, size: upload.bytes.length, envelope };
}

/**
 * Decrypts a sealed upload with the metadata it was stored with and the same caller context;
 * any difference, or a changed envelope, is the platform's single `decryption-failed` answer.
 */
export async function openUpload(
  encryption: EnvelopeEncryption,
  sealed: Pick<SealedUpload, 'name' | 'type' | 'envelope'>,
  context: EncryptionContext = {},
): Promise<AcceptedUpload> {
  const bytes = await encryption.decrypt(sealed.envelope, uploadContext(sealed, context));
  return { name: sealed.name, type: sealed.type, bytes };
}

function uploadContext(
  upload: Pick<SealedUpload, 'name' | 'type'>,
  context: EncryptionContext = {},
): EncryptionContext {
  if (Object.hasOwn(context, NAME_KEY) || Object.hasOwn(context, TYPE_KEY))
    throw new TypeError(`${NAME_KEY} and ${TYPE_KEY} are set by the upload module, not the caller`);
  return { ...context, [NAME_KEY]: upload.name, [TYPE_KEY]: upload.type };
}
