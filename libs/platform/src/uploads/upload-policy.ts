/**
 * The file types an upload may ever have. A closed catalogue on purpose: each entry is a type the
 * content check can recognise from its bytes (`file-type`) or, for the two text types, validate as
 * plain UTF-8. Types that run in a browser (HTML, SVG, XML, JavaScript) have no entry, so no policy
 * can allow them.
 *
 * `extensions`: the name extensions that may claim the type (the first is added to names without
 * one). `aliases`: other Content-Type values browsers send for it. `zipBased`: the format is a
 * ZIP archive, so finding a ZIP inside it is no polyglot.
 */
export const UPLOAD_TYPES = {
  'image/png': { extensions: ['png'], aliases: ['image/x-png'] },
  'image/jpeg': { extensions: ['jpg', 'jpeg'], aliases: ['image/jpg', 'image/pjpeg'] },
  'image/gif': { extensions: ['gif'], aliases: [] },
  'image/webp': { extensions: ['webp'], aliases: [] },
  'image/avif': { extensions: ['avif'], aliases: [] },
  'application/pdf': { extensions: ['pdf'], aliases: ['application/x-pdf'] },
  'application/zip': {
    extensions: ['zip'],
    aliases: ['application/x-zip-compressed'],
    zipBased: true,
  },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    extensions: ['docx'],
    aliases: [],
    zipBased: true,
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    extensions: ['xlsx'],
    aliases: [],
    zipBased: true,
  },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    extensions: ['pptx'],
    aliases: [],
    zipBased: true,
  },
  'text/plain': { extensions: ['txt'], aliases: [], text: true },
  'text/csv': {
    extensions: ['csv'],
    // Windows browsers send Excel's type for .csv when Excel is installed.
    aliases: [
      'application/csv',
      'text/x-csv',
      'text/comma-separated-values',
      'application/vnd.ms-excel',
    ],
    text: true,
  },
} as const satisfies Record<
  string,
  { extensions: readonly string[]; aliases: readonly string[]; zipBased?: true; text?: true }
>;

export type UploadType = keyof typeof UPLOAD_TYPES;

export interface UploadTypeInfo {
  readonly extensions: readonly string[];
  readonly aliases: readonly string[];
  readonly zipBased?: true;
  readonly text?: true;
}

export function uploadTypeInfo(type: UploadType): UploadTypeInfo {
  return UPLOAD_TYPES[type];
}

export function isUploadType(type: string): type is UploadType {
  return Object.hasOwn(UPLOAD_TYPES, type);
}

/**
 * Uploads are held in memory once, for the type checks and the encryption, so a policy may not
 * allow more than this per file. Larger files need a streaming design of their own.
 */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

/** What one use of uploads accepts (a profile picture, an invoice attachment, ...). */
export interface UploadPolicyOptions {
  /** The most bytes a file may have; one more and the upload is refused with 413. */
  readonly maxBytes: number;
  /** The types accepted, judged from the bytes; anything else is refused with 415. */
  readonly allowedTypes: readonly UploadType[];
}

declare const checked: unique symbol;

/** A policy that went through `defineUploadPolicy`; the checks accept no other. */
export type UploadPolicy = UploadPolicyOptions & { readonly [checked]: true };

/**
 * Checks a policy once, where it is declared: a wrong policy is a bug in the service and stops
 * it at start, rather than failing on the first upload.
 */
export function defineUploadPolicy(options: UploadPolicyOptions): UploadPolicy {
  if (
    !Number.isSafeInteger(options.maxBytes) ||
    options.maxBytes < 1 ||
    options.maxBytes > MAX_UPLOAD_BYTES
  )
    throw new RangeError(`upload maxBytes must be an integer from 1 to ${MAX_UPLOAD_BYTES}`);
  if (options.allowedTypes.length === 0)
    throw new RangeError('an upload policy must allow at least one type');
  for (const type of options.allowedTypes)
    if (!isUploadType(type)) throw new RangeError(`${String(type)} is not an upload type`);
  return Object.freeze({
    maxBytes: options.maxBytes,
    allowedTypes: Object.freeze([...new Set(options.allowedTypes)]),
  }) as UploadPolicy;
}
