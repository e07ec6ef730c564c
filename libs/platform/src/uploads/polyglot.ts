import type { UploadType } from './upload-policy.js';
import { uploadTypeInfo } from './upload-policy.js';

/**
 * Cheap checks for files that are valid as their own type and as another, more dangerous one.
 * They look at the raw bytes only: nothing is decompressed, so content inside deflated PDF
 * streams or object streams, PNG zTXt/iTXt chunks or ZIP members is not seen. What they catch is
 * the classic hand-built polyglot, where the second payload sits in plain bytes: a script in a
 * JPEG comment or PNG tEXt chunk, an HTML page after an image, a ZIP appended to an image or
 * PDF, a PDF header inside an image, a PDF that runs JavaScript.
 *
 * Returns the kind of content found (for tests and logs), or undefined for none.
 */
export function findPolyglot(bytes: Buffer, type: UploadType): string | undefined {
  // latin1 maps each byte to one character, so offsets and ASCII matches stay exact.
  const text = bytes.toString('latin1');
  if (ACTIVE_MARKUP.test(text)) return 'markup';
  if (type !== 'application/pdf' && PDF_HEADER.test(text)) return 'pdf';
  if (!uploadTypeInfo(type).zipBased && hasZipDirectory(bytes)) return 'zip';
  if (type === 'application/pdf' && hasActivePdfName(text)) return 'pdf-action';
  return undefined;
}

/**
 * Markup a browser or PHP would act on. Random bytes match one of these only with a chance in the
 * order of one in ten million per megabyte; a file that does is refused, not repaired.
 */
const ACTIVE_MARKUP =
  /<(?:script|html|body|iframe|object|embed|svg|meta|link|style|form)[\s/>]|<\?php/i;

/** PDF readers accept the header anywhere in the first kilobyte; we look everywhere. */
const PDF_HEADER = /%PDF-\d/;

/**
 * A ZIP needs a central directory entry and an end-of-central-directory record; readers find
 * them from the end of the file, which is what makes "image + appended ZIP" open as an archive
 * (GIFAR, JAR-in-image). Requiring both signatures keeps the chance of a match in random bytes
 * negligible.
 */
function hasZipDirectory(bytes: Buffer): boolean {
  const endOfDirectory = bytes.lastIndexOf(ZIP_END_OF_DIRECTORY);
  return endOfDirectory > 0 && bytes.lastIndexOf(ZIP_DIRECTORY_ENTRY, endOfDirectory) >= 0;
}

const ZIP_DIRECTORY_ENTRY = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
const ZIP_END_OF_DIRECTORY = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/**
 * PDF features that run code or start other programs: a JavaScript action needs `/S /JavaScript`
 * and the document-level scripts live in a `/JavaScript` name tree, so that name alone finds
 * both; `/JS` counts only as a dictionary key with a value (a string or an object reference),
 * because three bytes alone turn up in compressed streams far too often. Names may spell
 * characters as `#xx` ("/J#61vaScript"), so those are decoded first.
 */
function hasActivePdfName(text: string): boolean {
  const decoded = text.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
  return ACTIVE_PDF_NAME.test(decoded);
}

const ACTIVE_PDF_NAME =
  /\/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9])|\/JS\s*(?:\(|<|\d+\s+\d+\s+R)/;
