import { readUpload, type UploadSource } from './read-upload.js';
import { detectUploadType } from './upload-content.js';
import { sanitiseUploadName, withExtension } from './upload-name.js';
import { UPLOAD_TYPES, type UploadPolicy, type UploadType } from './upload-policy.js';

/** An upload that passed every check: safe name, type from its bytes, size within the policy. */
export interface AcceptedUpload {
  /** The sanitised name, its extension matching `type` (added when the client sent none). */
  readonly name: string;
  readonly type: UploadType;
  readonly bytes: Buffer;
}

export interface UploadMetadata {
  /** The client's file name (multipart `filename`), unsanitised. */
  name: unknown;
  /** The client's Content-Type for the file, if any. */
  contentType?: string | undefined;
}

/**
 * Every upload check in the order that wastes least: the name first (400, before a byte is
 * read), then the size while reading (413), then the type and polyglot checks (415).
 */
export async function acceptUpload(
  source: UploadSource,
  metadata: UploadMetadata,
  policy: UploadPolicy,
): Promise<AcceptedUpload> {
  const name = sanitiseUploadName(metadata.name);
  const bytes = await readUpload(source, policy);
  const type = await detectUploadType(bytes, { name, contentType: metadata.contentType }, policy);
  const stored = name.extension ? name : withExtension(name, UPLOAD_TYPES[type].extensions[0]);
  return { name: stored.name, type, bytes };
}
