import { Writable } from 'node:stream';
import { createLogger } from '@rampart/platform';

/** A real platform logger writing JSON lines into memory, to check what the service logs. */
export function capturedLogger() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('identity', 'info', stream), text: () => chunks.join('') };
}
