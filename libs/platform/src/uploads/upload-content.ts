import { isUtf8 } from 'node:buffer';
import { fileTypeFromBuffer } from 'file-type';
import { mediaType } from '../http/media-type.js';
import { findPolyglot } from './polyglot.js';
import {
  uploadEmpty,
  uploadPolyglot,
  uploadTypeMismatch,
  uploadTypeNotAllowed,
} from './upload.errors.js';
import type { UploadName } from './upload-name.js';
import { isUploadType, UPLOAD_TYPES, type UploadPolicy, type UploadType } from './upload-policy.js';

/** What the client said about the file; both are claims to check, never trusted. */
export interface UploadClaims {
  /** The sanitised name; its extension must fit the detected type. */
  name: UploadName;
  /** The part's or request's Content-Type, if any. `application/octet-stream` claims nothing. */
  contentType?: string | undefined;
}

/**
 * The file's type, judged from its bytes: `file-type`'s magic numbers for binary formats, or for
 * the text types (which have none) valid UTF-8 without NUL bytes, told apart by the claims. The
 * type must be allowed by the policy and agree with the claimed extension and Content-Type, and
 * the bytes must not also be another kind of file (see polyglot.ts); each failure is a 415.
 */
export async function detectUploadType(
  bytes: Buffer,
  claims: UploadClaims,
  policy: UploadPolicy,
): Promise<UploadType> {
  if (bytes.length === 0) throw uploadEmpty();
  const claimedType = essence(claims.contentType);
  const detected = await fileTypeFromBuffer(bytes).catch(() => {
    // A file built to trip the parser is not one we accept, and not a server error either.
    throw uploadTypeNotAllowed(policy);
  });
  const allowedDetected =
    detected && isUploadType(detected.mime) && policy.allowedTypes.includes(detected.mime)
      ? detected.mime
      : undefined;
  // Anything else can still be text: some magic numbers are two or three ASCII letters, and a
  // CSV starting "BMW," (a "BMP") or "MZ," (an "EXE") is still a CSV.
  const type = allowedDetected ?? textType(bytes, claims, claimedType, policy);
  const info = UPLOAD_TYPES[type];
  if (claims.name.extension && !listed(info.extensions, claims.name.extension))
    throw uploadTypeMismatch('extension');
  if (claimedType && claimedType !== type && !listed(info.aliases, claimedType))
    throw uploadTypeMismatch('content-type');
  if (findPolyglot(bytes, type)) throw uploadPolyglot();
  return type;
}

/**
 * Bytes no allowed magic number matched are accepted only as an allowed text type, and only when they
 * are valid UTF-8 without NUL (which no text file has and nearly every binary one does). Which
 * text type comes from the claims: the extension, else the Content-Type, else text/plain.
 */
function textType(
  bytes: Buffer,
  claims: UploadClaims,
  claimedType: string | undefined,
  policy: UploadPolicy,
): UploadType {
  if (
    !policy.allowedTypes.some((type) => TEXT_TYPES.includes(type)) ||
    bytes.includes(0) ||
    !isUtf8(bytes)
  )
    throw uploadTypeNotAllowed(policy);
  const { extension } = claims.name;
  let type: UploadType | undefined;
  if (extension) {
    type = TEXT_TYPES.find((text) => listed(UPLOAD_TYPES[text].extensions, extension));
    // Text named ".png" is not a PNG.
    if (!type) throw uploadTypeMismatch('extension');
  } else if (claimedType) {
    type = TEXT_TYPES.find(
      (text) => text === claimedType || listed(UPLOAD_TYPES[text].aliases, claimedType),
    );
    if (!type) throw uploadTypeMismatch('content-type');
  } else {
    type = 'text/plain';
  }
  if (!policy.allowedTypes.includes(type)) throw uploadTypeNotAllowed(policy);
  return type;
}

const TEXT_TYPES = (Object.keys(UPLOAD_TYPES) as UploadType[]).filter(
  (type) => 'text' in UPLOAD_TYPES[type],
);

const listed = (values: readonly string[], value: string) => values.includes(value);

/** "Image/PNG; charset=x" -> "image/png"; nothing or application/octet-stream -> undefined. */
function essence(contentType: string | undefined): string | undefined {
  const type = mediaType(contentType);
  return type !== 'application/octet-stream' ? type : undefined;
}
