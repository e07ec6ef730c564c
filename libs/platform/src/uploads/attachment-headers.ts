import { UPLOAD_TYPES, type UploadType } from './upload-policy.js';

export interface AttachmentHeaders {
  'content-type': string;
  'content-disposition': string;
  'x-content-type-options': 'nosniff';
  'content-security-policy': string;
  'cache-control': 'no-store';
}

/**
 * Response headers for serving a stored upload: always a download, never rendered in the page's
 * origin. `Content-Type` is the type detected at upload (text with its charset), `nosniff` stops
 * browsers from guessing another one, and the sandbox CSP makes even a file opened directly run
 * no script and load nothing. The name is given twice (RFC 6266): an ASCII fallback and the exact
 * UTF-8 name percent-encoded (RFC 8187).
 */
export function attachmentHeaders(upload: { name: string; type: UploadType }): AttachmentHeaders {
  const contentType =
    'text' in UPLOAD_TYPES[upload.type] ? `${upload.type}; charset=utf-8` : upload.type;
  return {
    'content-type': contentType,
    'content-disposition': `attachment; filename="${asciiFallback(upload.name)}"; filename*=UTF-8''${encodeRfc8187(upload.name)}`,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    'cache-control': 'no-store',
  };
}

/**
 * Printable ASCII without the quote and backslash a quoted-string would need escaped (which some
 * clients get wrong) and without "%" (some browsers percent-decode this value); everything else
 * becomes "_". Names from sanitiseUploadName have no quote or backslash, but the header must stay
 * well-formed for any name.
 */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
}

/** RFC 8187 `attr-char` stays as it is; every other UTF-8 byte is percent-encoded. */
function encodeRfc8187(name: string): string {
  return Array.from(Buffer.from(name, 'utf8'), (byte) => {
    const char = String.fromCharCode(byte);
    return ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;
