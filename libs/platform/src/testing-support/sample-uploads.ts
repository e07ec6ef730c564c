import { crc32, deflateSync } from 'node:zlib';

/**
 * Small but well-formed files built from bytes, for upload tests: real magic numbers and
 * structure (so `file-type` recognises them), and hooks to smuggle a second payload in the places
 * hand-built polyglots use.
 */

const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(
    parts.map((part) =>
      typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part),
    ),
  );

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = bytes(type, data);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body));
  return bytes(length, body, checksum);
}

/** A 1x1 grey PNG; `text` goes into a tEXt chunk, `trailer` after IEND. */
export function samplePng(options: { text?: string; trailer?: Buffer } = {}): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0); // width
  header.writeUInt32BE(1, 4); // height
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, default compression, filter, no interlace
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk('IHDR', header),
    options.text ? pngChunk('tEXt', bytes('Comment\0', options.text)) : Buffer.alloc(0),
    pngChunk('IDAT', deflateSync(Buffer.from([0, 0x80]))),
    pngChunk('IEND', Buffer.alloc(0)),
    options.trailer ?? Buffer.alloc(0),
  );
}

/** A JFIF JPEG header and end marker; `comment` goes into a COM segment. */
export function sampleJpeg(options: { comment?: string } = {}): Buffer {
  const comment = options.comment ? Buffer.from(options.comment, 'latin1') : undefined;
  const segment = comment
    ? bytes([0xff, 0xfe, (comment.length + 2) >> 8, (comment.length + 2) & 0xff], comment)
    : Buffer.alloc(0);
  return bytes(
    [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10],
    'JFIF\0',
    [1, 1, 0, 0, 1, 0, 1, 0, 0],
    segment,
    [0xff, 0xd9],
  );
}

/** A one-page PDF; `objects` are added as extra indirect objects (e.g. an action dictionary). */
export function samplePdf(options: { objects?: string[] } = {}): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
    ...(options.objects ?? []),
  ];
  const body = objects.map((object, index) => `${index + 1} 0 obj\n${object}\nendobj\n`).join('');
  return bytes(`%PDF-1.7\n${body}trailer\n<< /Root 1 0 R /Size ${objects.length + 1} >>\n%%EOF\n`);
}

/**
 * An object stream (PDF 1.5+) holding `objects` compressed, for samplePdf's `objects`; pass
 * `filter: null` to leave it uncompressed or another filter name to label it so.
 */
export function sampleObjectStream(
  objects: string[],
  options: { filter?: string | null; data?: Buffer } = {},
): string {
  const body = objects.join('\n');
  const filter = options.filter === undefined ? '/FlateDecode' : options.filter;
  const data = options.data ?? (filter === '/FlateDecode' ? deflateSync(body) : Buffer.from(body));
  return (
    `<< /Type /ObjStm /N ${objects.length} /First 0${filter ? ` /Filter ${filter}` : ''} ` +
    `/Length ${data.length} >>\nstream\n${data.toString('latin1')}\nendstream`
  );
}

/** A GIF89a header and trailer. */
export function sampleGif(): Buffer {
  return bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0], ';');
}

/** A ZIP archive of stored (uncompressed) entries; an Office file is such a ZIP with known names. */
export function sampleZip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const fileName = Buffer.from(name, 'utf8');
    const data = Buffer.from(content, 'utf8');
    const checksum = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4); // version made by
    entry.writeUInt16LE(20, 6); // version needed
    entry.writeUInt32LE(checksum, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(fileName.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    directory.push(entry, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directoryBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directoryBytes, end]);
}

/** A minimal Word document, as far as type detection looks. */
export function sampleDocx(): Buffer {
  return sampleZip({
    '[Content_Types].xml':
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    'word/document.xml': '<?xml version="1.0"?><w:document/>',
  });
}
