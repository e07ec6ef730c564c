import { describe, expect, it } from '@jest/globals';
import { attachmentHeaders } from './attachment-headers.js';

describe('attachmentHeaders', () => {
  it('serves a file only as a download of its detected type, never sniffed or rendered', () => {
    expect(attachmentHeaders({ name: 'report.pdf', type: 'application/pdf' })).toEqual({
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'cache-control': 'no-store',
    });
  });

  it('names text with its charset', () => {
    expect(attachmentHeaders({ name: 'a.csv', type: 'text/csv' })['content-type']).toBe(
      'text/csv; charset=utf-8',
    );
  });

  it('gives a Unicode name percent-encoded (RFC 8187) and an ASCII fallback (RFC 6266)', () => {
    const { 'content-disposition': disposition } = attachmentHeaders({
      name: 'Übersicht März 写真.png',
      type: 'image/png',
    });
    expect(disposition).toBe(
      `attachment; filename="_bersicht M_rz __.png"; ` +
        `filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz%20%E5%86%99%E7%9C%9F.png`,
    );
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe('Übersicht März 写真.png');
  });

  it('keeps the header well-formed for any name', () => {
    const { 'content-disposition': disposition } = attachmentHeaders({
      name: `a"; filename="evil.html\\%41'()*\r\n.png`,
      type: 'image/png',
    });
    // One quoted string, one extended value, nothing a parser could read as a second parameter.
    expect(disposition).toBe(
      `attachment; filename="a_; filename=_evil.html__41'()*__.png"; ` +
        `filename*=UTF-8''a%22%3B%20filename%3D%22evil.html%5C%2541%27%28%29%2A%0D%0A.png`,
    );
    expect(disposition).not.toMatch(/[\r\n]/);
  });
});
