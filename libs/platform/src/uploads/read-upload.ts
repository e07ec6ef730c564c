import { RampartError } from '../errors/rampart-error.js';
import { uploadIncomplete, uploadTooLarge } from './upload.errors.js';
import type { UploadPolicy } from './upload-policy.js';

/** A Node Readable, a web ReadableStream or any async iterable of chunks. */
export type UploadSource = AsyncIterable<Uint8Array | string>;

/**
 * Reads an upload into memory with a hard limit: as soon as the bytes pass `maxBytes` the source
 * is stopped and the upload refused with 413, so at most `maxBytes` plus the chunk that crossed
 * the limit are ever held, whatever the client claims in Content-Length. A source that fails
 * midway (the client hung up) is a 400.
 */
export async function readUpload(
  source: UploadSource,
  policy: Pick<UploadPolicy, 'maxBytes'>,
): Promise<Buffer> {
  if (!Number.isSafeInteger(policy.maxBytes) || policy.maxBytes < 1)
    throw new RangeError('upload maxBytes must be a positive integer');
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      total += bytes.length;
      // Throwing out of the loop calls the iterator's return(), which destroys a Node stream
      // and cancels a web stream: the rest of the body is never read from the socket.
      if (total > policy.maxBytes) throw uploadTooLarge(policy.maxBytes);
      chunks.push(bytes);
    }
  } catch (error) {
    if (error instanceof RampartError) throw error;
    throw uploadIncomplete(error);
  }
  return Buffer.concat(chunks, total);
}
