import { describe, expect, it, jest } from '@jest/globals';
import { Readable } from 'node:stream';
import { toProblem } from '../errors/problem-details.js';
import { readUpload } from './read-upload.js';
import { rejectionOf as failure } from '../testing-support/rejection.js';

const KIB = 1024;

/** An endless upload that counts what was pulled from it and whether it was stopped. */
function endlessUpload(chunkBytes: number) {
  const state = { chunksPulled: 0, stopped: false };
  const source: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        state.chunksPulled += 1;
        return Promise.resolve({ value: Buffer.alloc(chunkBytes, 0x61), done: false });
      },
      return: () => {
        state.stopped = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    }),
  };
  return { source, state };
}

describe('readUpload', () => {
  it('reads an upload up to exactly the limit', async () => {
    const source = Readable.from([Buffer.alloc(600, 1), Buffer.alloc(424, 2)]);
    const bytes = await readUpload(source, { maxBytes: KIB });
    expect(bytes).toHaveLength(KIB);
    expect(bytes[599]).toBe(1);
    expect(bytes[600]).toBe(2);
  });

  it('refuses one byte over the limit with a 413 problem', async () => {
    const error = await failure(
      readUpload(Readable.from([Buffer.alloc(KIB), Buffer.alloc(1)]), { maxBytes: KIB }),
    );
    expect(error).toMatchObject({ code: 'payload-too-large', status: 413 });
    const problem = toProblem(error, '/files', { error: jest.fn() });
    expect(problem).toEqual({
      type: 'urn:rampart:problem:payload-too-large',
      title: 'Payload too large',
      status: 413,
      code: 'payload-too-large',
      instance: '/files',
      detail: 'The file is larger than 1024 bytes.',
      maxBytes: KIB,
    });
  });

  it('stops pulling an endless upload as soon as it passes the limit', async () => {
    const { source, state } = endlessUpload(64 * KIB);
    const error = await failure(readUpload(source, { maxBytes: KIB * KIB }));
    expect(error).toMatchObject({ status: 413 });
    // 16 chunks fill the megabyte exactly; the 17th crosses it and nothing more is read.
    expect(state.chunksPulled).toBe(17);
    expect(state.stopped).toBe(true);
  });

  it('destroys a Node stream it refuses, so the rest of the body is never read', async () => {
    let pulled = 0;
    const stream = new Readable({
      highWaterMark: 16 * KIB,
      read() {
        pulled += 1;
        this.push(Buffer.alloc(16 * KIB));
      },
    });
    await expect(readUpload(stream, { maxBytes: 100 * KIB })).rejects.toMatchObject({
      status: 413,
    });
    expect(stream.destroyed).toBe(true);
    const pulledAtRefusal = pulled;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBe(pulledAtRefusal);
    expect(pulled).toBeLessThan(12);
  });

  it('cancels a web stream it refuses', async () => {
    let pulled = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(KIB));
      },
      cancel() {
        cancelled = true;
      },
    });
    await expect(readUpload(stream, { maxBytes: 10 * KIB })).rejects.toMatchObject({
      status: 413,
    });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(14);
  });

  it('answers a source that fails midway with a 400 that hides the cause', async () => {
    const broken = new Readable({
      read() {
        this.push(Buffer.from('first part'));
        this.destroy(new Error('ECONNRESET at socket 10.0.0.7:51234'));
      },
    });
    const error = await failure(readUpload(broken, { maxBytes: KIB }));
    expect(error).toMatchObject({ code: 'bad-request', status: 400 });
    const problem = toProblem(error, '/files', { error: jest.fn() });
    expect(JSON.stringify(problem)).not.toContain('ECONNRESET');
    expect(problem.detail).toBe('The file could not be read to its end.');
  });

  it('accepts strings and typed arrays as chunks', async () => {
    const mixed = Readable.from(['héllo ', new Uint8Array([0x77, 0x6f, 0x72, 0x6c, 0x64])]);
    expect((await readUpload(mixed, { maxBytes: KIB })).toString('utf8')).toBe('héllo world');
  });
});
