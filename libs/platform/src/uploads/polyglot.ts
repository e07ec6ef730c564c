import { constants as zlibConstants, inflateSync } from 'node:zlib';
import type { UploadType } from './upload-policy.js';
import { uploadTypeInfo } from './upload-policy.js';

/**
 * Cheap checks for files that are valid as their own type and as another, more dangerous one.
 * They look at the raw bytes; the only thing decompressed is a PDF's object streams (where
 * dictionaries may hide since PDF 1.5), so content inside other deflated PDF streams, PNG
 * zTXt/iTXt chunks or ZIP members is not seen. What they catch is the classic hand-built
 * polyglot, where the second payload sits in plain bytes: a script in a JPEG comment or PNG tEXt
 * chunk, an HTML page after an image, a ZIP appended to an image or PDF, a PDF header inside an
 * image, and a PDF that runs JavaScript.
 *
 * Returns the kind of content found (for tests and logs), or undefined for none.
 */
export function findPolyglot(bytes: Buffer, type: UploadType): string | undefined {
  // latin1 maps each byte to one character, so offsets and ASCII matches stay exact.
  const text = bytes.toString('latin1');
  if (ACTIVE_MARKUP.test(text)) return 'markup';
  if (type !== 'application/pdf' && PDF_HEADER.test(text)) return 'pdf';
  if (!uploadTypeInfo(type).zipBased && hasZipDirectory(bytes)) return 'zip';
  if (type === 'application/pdf') return findActivePdfContent(text);
  return undefined;
}

/**
 * Markup a browser or PHP would act on, in any letter case. High-entropy bytes (compressed image
 * or PDF data) match by chance with odds of about 1 in 13,000 per MiB, almost all through `<svg`
 * (a 10 MiB photo: about 1 in 1,300). A file that matches is refused, not repaired.
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
 * PDF features that run code or start other programs. A JavaScript action needs `/S /JavaScript`
 * and document-level scripts live in a `/JavaScript` name tree, so that name, looked for in the
 * whole file, finds both. `/JS` is looked for too, as a dictionary key with a value (a string or
 * an object reference), but only outside stream bodies: those three bytes turn up in compressed
 * stream data far too often. Names may spell characters as `#xx` ("/J#61vaScript"), so those are
 * decoded first. Since PDF 1.5, dictionaries may sit compressed in object streams: those are
 * inflated and searched the same way, and one that cannot be inflated is refused ('pdf-hidden').
 */
function findActivePdfContent(text: string): string | undefined {
  if (hasActiveName(text)) return 'pdf-action';
  const inflated = objectStreams(text);
  if (inflated === undefined) return 'pdf-hidden';
  return inflated.some(hasActiveName) ? 'pdf-action' : undefined;
}

function hasActiveName(text: string): boolean {
  const decoded = decodeNames(text);
  return ACTIVE_PDF_NAME.test(decoded) || PDF_JS_KEY.test(outsideStreams(decoded));
}

const decodeNames = (text: string) =>
  text.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

const ACTIVE_PDF_NAME = /\/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9])/;
const PDF_JS_KEY = /\/JS\s*(?:\(|<|\d+\s+\d+\s+R)/;
const STREAM_START = /stream\r?\n/g;
const STREAM_END = 'endstream';

interface PdfStream {
  /** The text from the object's "obj" keyword to its "stream" keyword: the stream dictionary. */
  dictionary: string;
  /** Offsets of the stream's data in the file. */
  start: number;
  end: number;
}

/**
 * Every `stream ... endstream` in the file, found in one pass with indexOf rather than a lazy
 * regex, so a file full of unterminated "stream" keywords costs linear time, not quadratic.
 */
function pdfStreams(text: string): PdfStream[] {
  const streams: PdfStream[] = [];
  let from = 0;
  for (;;) {
    STREAM_START.lastIndex = from;
    const start = STREAM_START.exec(text);
    if (!start) break;
    const end = text.indexOf(STREAM_END, STREAM_START.lastIndex);
    if (end < 0) break;
    const object = text.lastIndexOf('obj', start.index);
    streams.push({
      dictionary: text.slice(Math.max(object, from), start.index),
      start: STREAM_START.lastIndex,
      end,
    });
    from = end + STREAM_END.length;
  }
  return streams;
}

/** The text with every stream body left out. */
function outsideStreams(text: string): string {
  const kept: string[] = [];
  let from = 0;
  for (const stream of pdfStreams(text)) {
    kept.push(text.slice(from, stream.start));
    from = stream.end;
  }
  kept.push(text.slice(from));
  return kept.join(' ');
}

const OBJECT_STREAM = /\/Type\s*\/ObjStm(?![A-Za-z0-9])/;
const FILTER = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/;
const DECODE_PARAMETERS = /\/DecodeParms(?![A-Za-z0-9])/;
const FLATE_ONLY = /^(?:\/FlateDecode|\[\s*\/FlateDecode\s*\])$/;

/**
 * The inflated contents of every object stream, or undefined when one cannot be read: another
 * filter than Flate, Flate with a predictor, data that does not inflate, or more than
 * MAX_INFLATED_BYTES in all (a zip
 * bomb must not cost memory). Such a file is refused rather than passed unchecked.
 */
function objectStreams(text: string): string[] | undefined {
  const contents: string[] = [];
  let budget = MAX_INFLATED_BYTES;
  for (const stream of pdfStreams(text)) {
    const dictionary = decodeNames(stream.dictionary);
    if (!OBJECT_STREAM.test(dictionary)) continue;
    const filter = FILTER.exec(dictionary)?.[1];
    const data = Buffer.from(text.slice(stream.start, stream.end), 'latin1');
    if (filter === undefined) {
      contents.push(data.toString('latin1'));
      continue;
    }
    // Predictors (DecodeParms) rearrange the inflated bytes, which could split a name apart.
    if (!FLATE_ONLY.test(filter) || DECODE_PARAMETERS.test(dictionary) || budget <= 0)
      return undefined;
    try {
      // Sync flush: viewers read truncated streams too, so a cut-off stream must not hide anything.
      const inflated = inflateSync(data, {
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: budget,
      });
      budget -= inflated.length;
      contents.push(inflated.toString('latin1'));
    } catch {
      return undefined;
    }
  }
  return contents;
}

/** All object streams of one PDF together; real ones are a few megabytes at most. */
const MAX_INFLATED_BYTES = 32 * 1024 * 1024;
