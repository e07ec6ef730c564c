import { describe, expect, it, jest } from '@jest/globals';
import { toProblem } from '../errors/problem-details.js';
import { MAX_UPLOAD_NAME_BYTES, sanitiseUploadName, withExtension } from './upload-name.js';

const safe = (name: unknown) => sanitiseUploadName(name).name;

describe('sanitiseUploadName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['Quarterly Report 2026.PDF', 'Quarterly Report 2026.pdf'],
    ['Übersicht für März.xlsx', 'Übersicht für März.xlsx'],
    ['写真.jpg', '写真.jpg'],
  ])('keeps the ordinary name %j as %j', (input, output) => {
    expect(safe(input)).toBe(output);
  });

  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\system32\\config\\sam', 'sam'],
    ['/var/www/html/shell.php', 'shell.php'],
    ['C:\\Users\\me\\Desktop\\cv.pdf', 'cv.pdf'],
    ['C:cv.pdf', 'cv.pdf'],
    ['\\\\server\\share\\cv.pdf', 'cv.pdf'],
    ['uploads/../../../cv.pdf', 'cv.pdf'],
    ['..%2F..%2Fcv.pdf', '%2F..%2Fcv.pdf'],
    // Fullwidth full stops and solidus normalise (NFKC) to "../" and are stripped like it.
    ['．．／．．／cv.pdf', 'cv.pdf'],
    ['..∕..∕cv.pdf', '∕..∕cv.pdf'],
  ])('strips the path from %j', (input, output) => {
    expect(safe(input)).toBe(output);
  });

  it('never leaves a path separator or a leading dot', () => {
    for (const input of ['../x', '..\\x', '.../...//x', '.htaccess', '. . .x', './.././x'])
      expect(safe(input)).toMatch(/^[^./\\]/);
    expect(safe('.htaccess')).toBe('htaccess');
    expect(safe('..hidden.txt')).toBe('hidden.txt');
  });

  it('removes control characters, bidi overrides and zero-width characters', () => {
    // U+202E RIGHT-TO-LEFT OVERRIDE would show "invoice\u202Efdp.exe" as "invoiceexe.pdf".
    expect(sanitiseUploadName('invoice\u202Efdp.exe')).toEqual({
      name: 'invoicefdp.exe',
      extension: 'exe',
    });
    expect(safe('a\u0000b\u0007c\u001bd\u007fe\u0085f.txt')).toBe('abcdef.txt');
    expect(safe('line\r\nbreak\t.txt')).toBe('linebreak.txt');
    expect(safe('zero\u200bwidth\u200d\ufeff.txt')).toBe('zerowidth.txt');
    expect(safe('iso\u2066late\u2069.txt')).toBe('isolate.txt');
    expect(safe('lone\ud800surrogate.txt')).toBe('lonesurrogate.txt');
  });

  it('replaces characters Windows reserves, including the data-stream colon', () => {
    expect(safe('what?<is>*this|"file".txt')).toBe('what__is__this__file_.txt');
    expect(safe('notes.txt:hidden.exe')).toBe('notes.txt_hidden.exe');
  });

  it('drops trailing dots and spaces that Windows would drop itself', () => {
    expect(sanitiseUploadName('payload.exe. . ')).toEqual({
      name: 'payload.exe',
      extension: 'exe',
    });
  });

  it.each([
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['nul.tar.gz', '_nul.tar.gz'],
    ['COM1.pdf', '_COM1.pdf'],
    ['lpt9', '_lpt9'],
    ['COM¹.txt', '_COM1.txt'], // superscript one is a device too; NFKC makes it a digit
    ['CONSOLE.txt', 'CONSOLE.txt'],
    ['icon.png', 'icon.png'],
  ])('keeps %j from naming a Windows device (%j)', (input, output) => {
    expect(safe(input)).toBe(output);
  });

  it('keeps only a short ASCII extension, in lower case', () => {
    expect(sanitiseUploadName('photo.JPEG').extension).toBe('jpeg');
    expect(sanitiseUploadName('archive.tar.gz')).toEqual({
      name: 'archive.tar.gz',
      extension: 'gz',
    });
    expect(sanitiseUploadName('photo.pñg')).toEqual({ name: 'photo.pñg', extension: undefined });
    expect(sanitiseUploadName('data.verylongextension').extension).toBeUndefined();
    expect(sanitiseUploadName('README').extension).toBeUndefined();
    expect(sanitiseUploadName('evil.ＥＸＥ').extension).toBe('exe');
  });

  it('limits the length in UTF-8 bytes and keeps the extension', () => {
    const ascii = sanitiseUploadName(`${'a'.repeat(1000)}.pdf`);
    expect(ascii.name).toBe(`${'a'.repeat(MAX_UPLOAD_NAME_BYTES - 4)}.pdf`);
    // Three bytes per character: cut between characters, never inside one.
    const wide = sanitiseUploadName(`${'写'.repeat(300)}.docx`);
    expect(wide.extension).toBe('docx');
    expect(Buffer.byteLength(wide.name)).toBeLessThanOrEqual(MAX_UPLOAD_NAME_BYTES);
    expect(wide.name).toBe(`${'写'.repeat(65)}.docx`);
    expect(wide.name).not.toContain('\ufffd');
  });

  it('refuses names with nothing usable left, with a 400 problem', () => {
    for (const input of [
      '',
      '..',
      '../',
      '/',
      'C:\\',
      '\u202e',
      '\u200b\u200b',
      '   ',
      '. .',
      1,
      null,
    ])
      expect(() => sanitiseUploadName(input)).toThrow(
        expect.objectContaining({ code: 'bad-request', status: 400 }),
      );
    expect(() => sanitiseUploadName('x'.repeat(5000))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    let error: unknown;
    try {
      sanitiseUploadName('../');
    } catch (thrown) {
      error = thrown;
    }
    expect(toProblem(error, '/files', { error: jest.fn() })).toMatchObject({
      type: 'urn:rampart:problem:bad-request',
      status: 400,
      detail: 'The file name has no usable characters once made safe.',
    });
  });
});

describe('withExtension', () => {
  it('adds an extension and shortens the name to make room for it', () => {
    expect(withExtension(sanitiseUploadName('passwd'), 'txt')).toEqual({
      name: 'passwd.txt',
      extension: 'txt',
    });
    const long = withExtension(sanitiseUploadName('b'.repeat(MAX_UPLOAD_NAME_BYTES)), 'png');
    expect(Buffer.byteLength(long.name)).toBe(MAX_UPLOAD_NAME_BYTES);
    expect(long.name.endsWith('b.png')).toBe(true);
  });
});
