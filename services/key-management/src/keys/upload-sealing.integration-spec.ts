import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import {
  acceptUpload,
  defineUploadPolicy,
  EnvelopeEncryption,
  KmsClient,
  openUpload,
  parseEnvelope,
  sealUpload,
} from '@rampart/platform';
import { samplePdf, samplePng } from '@rampart/platform/testing-support';
import { startKms, type KmsHarness } from '../testing/kms-harness.js';

const attachments = defineUploadPolicy({
  maxBytes: 1024 * 1024,
  allowedTypes: ['application/pdf', 'image/png'],
});

describe('sealing uploads through the real key-management service', () => {
  let harness: KmsHarness;
  let kms: KmsClient;
  const encryptions: EnvelopeEncryption[] = [];

  /** A process of its own: empty key caches, so opening unwraps the data key at the service. */
  function freshEncryption() {
    const encryption = new EnvelopeEncryption({ kms, defaultKey: 'attachments' });
    encryptions.push(encryption);
    return encryption;
  }

  const accept = (bytes: Buffer, name: string) =>
    acceptUpload(Readable.from([bytes]), { name }, attachments);

  beforeAll(async () => {
    harness = await startKms();
    kms = new KmsClient({ baseUrl: harness.service.url, signer: harness.signer('consent') });
    await kms.createKey('attachments');
  });

  afterAll(async () => {
    for (const encryption of encryptions) encryption.close();
    await kms?.close();
    await harness?.stop();
  });

  it('seals an accepted upload and opens it in another process', async () => {
    const pdf = samplePdf();
    const upload = await accept(pdf, 'Rechnung März.pdf');
    const context = { owner: 'tenant-1/user-7', record: 'invoice-117' };
    const sealed = await sealUpload(freshEncryption(), upload, {
      category: 'confidential',
      context,
    });
    expect(sealed).toMatchObject({
      name: 'Rechnung März.pdf',
      type: 'application/pdf',
      size: pdf.length,
    });
    expect(parseEnvelope(sealed.envelope)).toMatchObject({
      category: 'confidential',
      keyName: 'attachments',
    });
    expect(sealed.envelope.includes(Buffer.from('%PDF'))).toBe(false);

    const opened = await openUpload(freshEncryption(), sealed, context);
    expect(opened).toEqual({
      name: 'Rechnung März.pdf',
      type: 'application/pdf',
      bytes: pdf,
    });
  });

  it('refuses a changed name, type or caller context, warm cache or cold', async () => {
    const writer = freshEncryption();
    const upload = await accept(samplePng(), 'avatar.png');
    const context = { owner: 'tenant-1/user-7' };
    const sealed = await sealUpload(writer, upload, { category: 'internal', context });
    const tampered: [typeof sealed, Record<string, string>][] = [
      [{ ...sealed, name: 'avatar.html' }, context],
      [{ ...sealed, name: 'other-user.png' }, context],
      [{ ...sealed, type: 'application/pdf' }, context],
      [{ ...sealed, type: 'text/plain' }, context],
      [sealed, { owner: 'tenant-1/user-8' }],
      [sealed, {}],
    ];
    for (const reader of [writer, freshEncryption()]) {
      for (const [metadata, readContext] of tampered)
        await expect(openUpload(reader, metadata, readContext)).rejects.toMatchObject({
          code: 'decryption-failed',
          status: 400,
        });
      expect((await openUpload(reader, sealed, context)).bytes).toEqual(upload.bytes);
    }
  });

  it('refuses a tampered envelope', async () => {
    const sealed = await sealUpload(freshEncryption(), await accept(samplePdf(), 'a.pdf'), {
      category: 'internal',
    });
    const { header } = parseEnvelope(sealed.envelope);
    const flipped = (offset: number) => {
      const copy = Buffer.from(sealed.envelope);
      copy[offset]! ^= 0x01;
      return copy;
    };
    const broken = [
      flipped(header.length - 1), // wrapped data key
      flipped(header.length + 20), // file bytes
      flipped(sealed.envelope.length - 1), // tag
      sealed.envelope.subarray(0, sealed.envelope.length - 4),
      Buffer.concat([sealed.envelope, Buffer.from('appended')]),
    ];
    for (const envelope of broken)
      await expect(openUpload(freshEncryption(), { ...sealed, envelope })).rejects.toMatchObject({
        code: 'decryption-failed',
      });
  });

  it('keeps its own context keys out of the caller context', async () => {
    const upload = await accept(samplePng(), 'a.png');
    await expect(
      sealUpload(freshEncryption(), upload, {
        category: 'internal',
        context: { 'upload.name': 'b.png' },
      }),
    ).rejects.toThrow(TypeError);
  });
});
