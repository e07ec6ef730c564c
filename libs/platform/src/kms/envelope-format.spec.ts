import { describe, expect, it } from '@jest/globals';
import {
  canonicalContext,
  encodeContext,
  encodeHeader,
  MalformedEnvelopeError,
  parseEnvelope,
} from './envelope-format.js';

const header = {
  category: 'personal' as const,
  keyKind: 'subject' as const,
  keyName: 'subject.t1.abc',
  keyVersion: 7,
  wrappedKey: Buffer.from('wrapped data key bytes'),
};

describe('envelope format', () => {
  it('reads back what it writes', () => {
    const head = encodeHeader(header);
    const iv = Buffer.alloc(12, 1);
    const body = Buffer.from('ciphertext');
    const tag = Buffer.alloc(16, 2);
    const parsed = parseEnvelope(Buffer.concat([head, iv, body, tag]));
    expect(parsed).toMatchObject({ ...header, header: head, iv, ciphertext: body, tag });
    expect(head.subarray(0, 6)).toEqual(Buffer.from([0x52, 0x45, 1, 4, 2, header.keyName.length]));
  });

  it('refuses what it cannot read', () => {
    const valid = Buffer.concat([encodeHeader(header), Buffer.alloc(28)]);
    const broken = [
      Buffer.alloc(0),
      Buffer.from('RK'),
      valid.subarray(0, valid.length - 1),
      Buffer.from(valid).fill(9, 2, 3), // version 9
      Buffer.from(valid).fill(0, 3, 4), // category 0
      Buffer.from(valid).fill(3, 4, 5), // key kind 3
      Buffer.from(valid).fill(255, 5, 6), // name longer than the envelope
    ];
    for (const bytes of broken) expect(() => parseEnvelope(bytes)).toThrow(MalformedEnvelopeError);
  });

  it('encodes a context independently of key order, and unambiguously', () => {
    const a = encodeContext(canonicalContext({ b: '2', a: '1' }));
    expect(a).toEqual(encodeContext(canonicalContext({ a: '1', b: '2' })));
    // Length prefixes: moving a boundary between key and value changes the bytes.
    expect(encodeContext(canonicalContext({ ab: 'c' }))).not.toEqual(
      encodeContext(canonicalContext({ a: 'bc' })),
    );
    expect(encodeContext([])).toEqual(Buffer.from([0, 0]));
    expect(() => canonicalContext({ a: 1 as unknown as string })).toThrow(TypeError);
    expect(() => encodeContext([['big', 'x'.repeat(9000)]])).toThrow(RangeError);
  });
});
