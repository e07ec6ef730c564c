import { uploadNameInvalid } from './upload.errors.js';

/** UTF-8 bytes a stored name may have: below every common file system's 255. */
export const MAX_UPLOAD_NAME_BYTES = 200;

/** Client names longer than this are refused before any work is done on them. */
const MAX_CLIENT_NAME_LENGTH = 4096;

/** Extensions kept: short, ASCII letters and digits only. Anything else is not an extension. */
const SAFE_EXTENSION = /^[a-z0-9]{1,10}$/;

/** Device names Windows reserves in any folder and with any extension ("CON.txt" included). */
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9]|lpt[0-9])$/i;

/**
 * Every control, format (bidi overrides, zero-width joiners, soft hyphens), surrogate,
 * private-use and unassigned code point: none belongs in a file name, and the bidi ones can make
 * "invoice\u202Efdp.exe" look like "invoiceexe.pdf".
 */
const INVISIBLE = /\p{C}/gu;

/** Characters Windows refuses in names; `:` would also name an NTFS alternate data stream. */
const WINDOWS_RESERVED = /[<>:"|?*]/g;

export interface UploadName {
  /** The whole safe name, e.g. "report 2026.pdf". */
  readonly name: string;
  /** The lower-case extension without its dot, when the name has a safe one. */
  readonly extension: string | undefined;
}

/**
 * Turns a client's file name into one safe to store, show and put in a Content-Disposition:
 * only its last path segment (so "../../etc/passwd", "..\\..\\boot.ini", "/abs" and "C:\\x"
 * lose their folders), compatibility-normalised first (NFKC, so fullwidth "．．／" cannot hide a
 * traversal), without invisible or Windows-reserved characters, without leading dots (no hidden
 * files, no "..") or trailing dots and spaces, never a Windows device name, and at most
 * MAX_UPLOAD_NAME_BYTES long with its extension kept. A name with nothing left is a 400.
 */
export function sanitiseUploadName(clientName: unknown): UploadName {
  if (typeof clientName !== 'string' || clientName.length === 0)
    throw uploadNameInvalid('The file has no name.');
  if (clientName.length > MAX_CLIENT_NAME_LENGTH)
    throw uploadNameInvalid('The file name is too long.');
  const normalised = clientName.normalize('NFKC');
  const lastSegment = normalised.split(/[/\\]/).pop() ?? '';
  let name = lastSegment
    .replace(/^[a-z]:/i, '') // "C:name" is relative to drive C's current folder
    .replace(INVISIBLE, '')
    .replace(WINDOWS_RESERVED, '_')
    .replace(/\s+/gu, ' ')
    .replace(/^[\s.]+/u, '')
    .replace(/[\s.]+$/u, '');
  if (name.length === 0)
    throw uploadNameInvalid('The file name has no usable characters once made safe.');

  const dot = name.lastIndexOf('.');
  const candidate = dot > 0 ? name.slice(dot + 1).toLowerCase() : undefined;
  const extension = candidate && SAFE_EXTENSION.test(candidate) ? candidate : undefined;
  let stem = extension ? name.slice(0, dot) : name;
  // "CON.txt" and "con.tar.gz" are both the device: Windows looks at what comes before the first dot.
  if (WINDOWS_DEVICE_NAME.test(stem.split('.')[0]!.trim())) stem = `_${stem}`;
  stem = truncateUtf8(stem, MAX_UPLOAD_NAME_BYTES - (extension ? extension.length + 1 : 0));
  // Cutting may have left a trailing dot or space: Windows would drop it, changing the name.
  stem = stem.replace(/[\s.]+$/u, '');
  if (stem.length === 0)
    throw uploadNameInvalid('The file name has no usable characters once made safe.');
  name = extension ? `${stem}.${extension}` : stem;
  return { name, extension };
}

/** The name with `extension` added, shortened to make room for it. */
export function withExtension(upload: UploadName, extension: string): UploadName {
  const stem = truncateUtf8(upload.name, MAX_UPLOAD_NAME_BYTES - extension.length - 1).replace(
    /[\s.]+$/u,
    '',
  );
  return { name: `${stem}.${extension}`, extension };
}

/** At most `maxBytes` of UTF-8, cut between code points, never inside one. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let kept = '';
  for (const codePoint of text) {
    bytes += Buffer.byteLength(codePoint, 'utf8');
    if (bytes > maxBytes) break;
    kept += codePoint;
  }
  return kept;
}
