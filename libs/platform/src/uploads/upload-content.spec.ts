import { describe, expect, it, jest } from '@jest/globals';
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { toProblem } from '../errors/problem-details.js';
import {
  sampleDocx,
  sampleGif,
  sampleJpeg,
  sampleObjectStream,
  samplePdf,
  samplePng,
  sampleZip,
} from '../testing-support/sample-uploads.js';
import { acceptUpload } from './accept-upload.js';
import { findPolyglot } from './polyglot.js';
import { detectUploadType } from './upload-content.js';
import { sanitiseUploadName } from './upload-name.js';
import { defineUploadPolicy, type UploadPolicy, type UploadType } from './upload-policy.js';
import { rejectionOf as failure } from '../testing-support/rejection.js';

const images = defineUploadPolicy({
  maxBytes: 1024 * 1024,
  allowedTypes: ['image/png', 'image/jpeg', 'image/gif'],
});
const documents = defineUploadPolicy({
  maxBytes: 1024 * 1024,
  allowedTypes: [
    'application/pdf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'text/plain',
    'text/csv',
  ],
});
const plainTextOnly = defineUploadPolicy({ maxBytes: 1024, allowedTypes: ['text/plain'] });

const detect = (bytes: Buffer, name: string, policy: UploadPolicy, contentType?: string) =>
  detectUploadType(bytes, { name: sanitiseUploadName(name), contentType }, policy);

const unsupported = { code: 'unsupported-media-type', status: 415 };

describe('detectUploadType', () => {
  it('judges the type from the bytes and accepts it when allowed', async () => {
    expect(await detect(samplePng(), 'a.png', images, 'image/png')).toBe('image/png');
    expect(await detect(sampleJpeg(), 'a.jpg', images, 'image/jpeg')).toBe('image/jpeg');
    expect(await detect(sampleJpeg(), 'a.JPEG', images, 'image/pjpeg')).toBe('image/jpeg');
    expect(await detect(sampleGif(), 'a.gif', images)).toBe('image/gif');
    expect(await detect(samplePdf(), 'a.pdf', documents, 'application/pdf')).toBe(
      'application/pdf',
    );
    expect(await detect(sampleDocx(), 'cv.docx', documents)).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    // A client that does not know the type claims nothing.
    expect(await detect(samplePng(), 'a.png', images, 'application/octet-stream')).toBe(
      'image/png',
    );
  });

  it('refuses types the policy does not allow, with the allowed ones in the problem', async () => {
    const error = await failure(detect(samplePdf(), 'a.pdf', images));
    expect(error).toMatchObject(unsupported);
    expect(toProblem(error, '/avatars', { error: jest.fn() })).toMatchObject({
      type: 'urn:rampart:problem:unsupported-media-type',
      status: 415,
      detail: 'The file is not of a type accepted here.',
      allowedTypes: ['image/png', 'image/jpeg', 'image/gif'],
    });
    // Types outside the catalogue never pass, whatever they are called.
    const executable = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]);
    await expect(detect(executable, 'a.png', images, 'image/png')).rejects.toMatchObject(
      unsupported,
    );
    await expect(detect(sampleZip({ 'a.txt': 'x' }), 'a.docx', documents)).rejects.toMatchObject(
      unsupported,
    );
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
    await expect(detect(svg, 'a.svg', images)).rejects.toMatchObject(unsupported);
  });

  describe('wrong extensions and Content-Types', () => {
    it.each([
      ['a PNG named .jpg', samplePng(), 'photo.jpg'],
      ['a PNG named .gif', samplePng(), 'photo.gif'],
      ['a JPEG named .png', sampleJpeg(), 'photo.png'],
      ['a PNG named .html', samplePng(), 'photo.html'],
      ['a PNG named .php', samplePng(), 'photo.php'],
      ['a double extension ending in .exe', samplePng(), 'photo.png.exe'],
    ])('refuses %s', async (_, bytes, name) => {
      const error = await failure(detect(bytes, name, images));
      expect(error).toMatchObject(unsupported);
      expect((error as Error).message).toBe(
        "The file name's extension does not match the file's content.",
      );
    });

    it('refuses a Content-Type other than the detected one', async () => {
      for (const contentType of ['image/jpeg', 'text/html', 'image/svg+xml', 'image/png-ish'])
        await expect(detect(samplePng(), 'a.png', images, contentType)).rejects.toMatchObject({
          ...unsupported,
          message: "The declared Content-Type does not match the file's content.",
        });
      expect(await detect(samplePng(), 'a.png', images, 'Image/PNG; charset=binary')).toBe(
        'image/png',
      );
    });

    it('refuses a PDF named .txt although text is allowed', async () => {
      await expect(detect(samplePdf(), 'notes.txt', documents)).rejects.toMatchObject(unsupported);
    });
  });

  describe('text types, which have no magic number', () => {
    const text = Buffer.from('Name,Städte\nAda,Zürich\n', 'utf8');

    it('accepts valid UTF-8 without NUL as the text type its claims name', async () => {
      expect(await detect(text, 'cities.csv', documents)).toBe('text/csv');
      expect(await detect(text, 'cities.txt', documents)).toBe('text/plain');
      expect(await detect(text, 'cities', documents, 'text/csv; charset=utf-8')).toBe('text/csv');
      expect(await detect(text, 'cities.csv', documents, 'application/vnd.ms-excel')).toBe(
        'text/csv',
      );
      expect(await detect(text, 'cities', documents)).toBe('text/plain');
    });

    it('accepts text whose first letters happen to be a magic number', async () => {
      const cars = Buffer.from('BMW,320i,2019\nVW,Golf,2021\n'); // "BM" starts a bitmap
      expect(await detect(cars, 'cars.csv', documents)).toBe('text/csv');
      const countries = Buffer.from('MZ,Mozambique\nNA,Namibia\n'); // "MZ" starts an .exe
      expect(await detect(countries, 'countries.csv', documents)).toBe('text/csv');
      expect(await detect(Buffer.from('ID3 tags explained\n'), 'id3.txt', documents)).toBe(
        'text/plain',
      );
      // Still refused where the policy takes no text.
      await expect(detect(cars, 'cars.csv', images)).rejects.toMatchObject(unsupported);
    });

    it('refuses text when the policy allows no text, or not that text type', async () => {
      await expect(detect(text, 'cities.txt', images)).rejects.toMatchObject(unsupported);
      await expect(detect(text, 'cities.csv', plainTextOnly)).rejects.toMatchObject(unsupported);
    });

    it('refuses bytes that are not UTF-8 text', async () => {
      const latin1 = Buffer.from('Stra\u00dfe', 'latin1'); // a lone 0xDF is not UTF-8
      await expect(detect(latin1, 'street.txt', documents)).rejects.toMatchObject(unsupported);
      const withNul = Buffer.from('looks like text\0but is not', 'utf8');
      await expect(detect(withNul, 'a.txt', documents)).rejects.toMatchObject(unsupported);
      const unknownBinary = Buffer.from([0x00, 0x01, 0x02, 0x03, 0xfe, 0xff]);
      await expect(detect(unknownBinary, 'a.txt', documents)).rejects.toMatchObject(unsupported);
    });

    it('refuses text that claims to be another type', async () => {
      await expect(detect(text, 'cities.png', documents)).rejects.toMatchObject(unsupported);
      await expect(detect(text, 'cities.html', documents)).rejects.toMatchObject(unsupported);
      await expect(detect(text, 'cities', documents, 'text/html')).rejects.toMatchObject(
        unsupported,
      );
      await expect(detect(text, 'cities.csv', documents, 'text/plain')).rejects.toMatchObject(
        unsupported,
      );
    });

    it('refuses an empty file with a 400', async () => {
      await expect(detect(Buffer.alloc(0), 'a.txt', documents)).rejects.toMatchObject({
        code: 'bad-request',
        status: 400,
      });
    });
  });

  describe('polyglots', () => {
    const polyglots: [string, Buffer, string, UploadPolicy, UploadType, string][] = [
      [
        'a PNG with a script in a tEXt chunk',
        samplePng({ text: '<script>alert(document.domain)</script>' }),
        'a.png',
        images,
        'image/png',
        'markup',
      ],
      [
        'a PNG with an HTML page after IEND',
        samplePng({ trailer: Buffer.from('<HTML><body onload=alert(1)>') }),
        'a.png',
        images,
        'image/png',
        'markup',
      ],
      [
        'a JPEG with PHP in its comment',
        sampleJpeg({ comment: '<?php system($_GET["c"]); ?>' }),
        'a.jpg',
        images,
        'image/jpeg',
        'markup',
      ],
      [
        'a GIF followed by an SVG',
        Buffer.concat([sampleGif(), Buffer.from('<svg/onload=alert(1)>')]),
        'a.gif',
        images,
        'image/gif',
        'markup',
      ],
      [
        'a PNG with a ZIP appended (GIFAR style)',
        Buffer.concat([samplePng(), sampleZip({ 'Exploit.class': 'cafebabe' })]),
        'a.png',
        images,
        'image/png',
        'zip',
      ],
      [
        'a JPEG carrying a PDF',
        sampleJpeg({ comment: '%PDF-1.4 1 0 obj << /Type /Catalog >> endobj' }),
        'a.jpg',
        images,
        'image/jpeg',
        'pdf',
      ],
      [
        'a PDF with a ZIP appended',
        Buffer.concat([samplePdf(), sampleZip({ 'payload.js': 'x' })]),
        'a.pdf',
        documents,
        'application/pdf',
        'zip',
      ],
      [
        'a PDF with an HTML page inside',
        samplePdf({ objects: ['(<html><script>alert(1)</script></html>)'] }),
        'a.pdf',
        documents,
        'application/pdf',
        'markup',
      ],
      [
        'a PDF with a JavaScript open action',
        samplePdf({ objects: ['<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>'] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF with /JS pointing at a stream',
        samplePdf({ objects: ['<< /JS 7 0 R >>'] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF hiding /JavaScript behind #-escapes',
        samplePdf({ objects: ['<< /S /J#61va#53cript /JS <6170702E616C657274283129> >>'] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF with /JS between two streams',
        samplePdf({
          objects: [
            '<< /Length 1 >>\nstream\nx\nendstream',
            '<< /JS (app.alert(1)) >>',
            '<< /Length 1 >>\nstream\ny\nendstream',
          ],
        }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF with a JavaScript action compressed in an object stream',
        samplePdf({
          objects: [sampleObjectStream(['<< /Type /Action /S /JavaScript /JS 9 0 R >>'])],
        }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF with /JS in an uncompressed object stream',
        samplePdf({
          objects: [sampleObjectStream(['<< /JS (app.alert(1)) >>'], { filter: null })],
        }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF with an object stream behind a predictor',
        samplePdf({
          objects: [
            sampleObjectStream(['<< /Type /Font >>']).replace(
              '/Filter /FlateDecode',
              '/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>',
            ),
          ],
        }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-hidden',
      ],
      [
        'a PDF with an object stream that does not inflate',
        samplePdf({ objects: [sampleObjectStream([], { data: Buffer.from('not zlib at all') })] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-hidden',
      ],
      [
        'a PDF with an object stream behind a filter that is not inspected',
        samplePdf({ objects: [sampleObjectStream(['<< /JS (x) >>'], { filter: '/LZWDecode' })] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-hidden',
      ],
      [
        'a PDF with an object stream that inflates to more than 32 MiB',
        samplePdf({
          objects: [sampleObjectStream([], { data: deflateSync(Buffer.alloc(33 * 1024 * 1024)) })],
        }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-hidden',
      ],
      [
        'a PDF that launches a program',
        samplePdf({ objects: ['<< /S /Launch /F (cmd.exe) >>'] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a PDF with an embedded file',
        samplePdf({ objects: ['<< /Type /EmbeddedFile /Length 0 >>'] }),
        'a.pdf',
        documents,
        'application/pdf',
        'pdf-action',
      ],
      [
        'a text file that is an HTML page',
        Buffer.from('hello\n<html><script>alert(1)</script>'),
        'a.txt',
        documents,
        'text/plain',
        'markup',
      ],
    ];

    it.each(polyglots)('refuses %s', async (_, bytes, name, policy, type, kind) => {
      expect(findPolyglot(bytes, type)).toBe(kind);
      const error = await failure(detect(bytes, name, policy));
      expect(error).toMatchObject(unsupported);
      // The problem says what is wrong, never which check matched or where.
      const problem = toProblem(error, '/files', { error: jest.fn() });
      expect(problem.detail).toBe('The file carries content of another kind besides its own type.');
      expect(JSON.stringify(problem).toLowerCase()).not.toContain(kind);
    });

    it('accepts look-alikes that are not active content', async () => {
      const innocent: [Buffer, string, UploadPolicy][] = [
        [samplePng({ text: 'a <scripted> comment about <html-like> things' }), 'a.png', images],
        [samplePdf({ objects: ['<< /JSON (not a script) /JSX 1 >>'] }), 'a.pdf', documents],
        [samplePdf({ objects: ['<< /JavaScriptEngineVersion 2 >>'] }), 'a.pdf', documents],
        // Stream data is not parsed as dictionaries: "/JS (" in compressed bytes is chance.
        [
          samplePdf({ objects: ['<< /Length 12 >>\nstream\n\x8f/JS (\x02\x9c\nendstream'] }),
          'a.pdf',
          documents,
        ],
        [sampleDocx(), 'cv.docx', documents],
        [
          samplePdf({
            objects: [
              sampleObjectStream(['<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']),
              sampleObjectStream(['<< /Type /Annot /Subtype /Link >>'], { filter: null }),
            ],
          }),
          'a.pdf',
          documents,
        ],
        [Buffer.from('x < y and <b>bold</b> is fine\n'), 'maths.txt', documents],
      ];
      for (const [bytes, name, policy] of innocent)
        expect(await detect(bytes, name, policy)).toBeDefined();
    });
  });
});

describe('acceptUpload', () => {
  const upload = (bytes: Buffer) => Readable.from([bytes]);

  it('returns the safe name, the detected type and the bytes', async () => {
    const png = samplePng();
    expect(
      await acceptUpload(
        upload(png),
        { name: '../../avatars/me.png', contentType: 'image/png' },
        images,
      ),
    ).toEqual({ name: 'me.png', type: 'image/png', bytes: png });
  });

  it("adds the detected type's extension to a name without one", async () => {
    const accepted = await acceptUpload(upload(sampleJpeg()), { name: 'snapshot' }, images);
    expect(accepted.name).toBe('snapshot.jpg');
    const text = await acceptUpload(upload(Buffer.from('hi')), { name: 'notes' }, documents);
    expect(text).toMatchObject({ name: 'notes.txt', type: 'text/plain' });
  });

  it('checks the name before reading, the size while reading, the type after', async () => {
    let pulled = false;
    const watched = new Readable({
      read() {
        pulled = true;
        this.push(samplePng());
        this.push(null);
      },
    });
    await expect(acceptUpload(watched, { name: '../' }, images)).rejects.toMatchObject({
      status: 400,
    });
    expect(pulled).toBe(false);
    const oversized = Buffer.concat([samplePng(), Buffer.alloc(images.maxBytes)]);
    await expect(acceptUpload(upload(oversized), { name: 'a.pdf' }, images)).rejects.toMatchObject({
      status: 413,
    });
    await expect(
      acceptUpload(upload(samplePng()), { name: 'a.pdf' }, images),
    ).rejects.toMatchObject({ status: 415 });
  });
});

describe('defineUploadPolicy', () => {
  it('refuses policies that cannot be right', () => {
    expect(() => defineUploadPolicy({ maxBytes: 0, allowedTypes: ['image/png'] })).toThrow(
      RangeError,
    );
    expect(() => defineUploadPolicy({ maxBytes: 1024 ** 3, allowedTypes: ['image/png'] })).toThrow(
      RangeError,
    );
    expect(() => defineUploadPolicy({ maxBytes: 10, allowedTypes: [] })).toThrow(RangeError);
    expect(() =>
      defineUploadPolicy({ maxBytes: 10, allowedTypes: ['text/html' as 'text/plain'] }),
    ).toThrow(RangeError);
  });
});
