import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, scrubSecrets } from './logger.js';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { lines: () => chunks.map((line) => JSON.parse(line) as Record<string, unknown>), stream };
}

describe('createLogger', () => {
  it('redacts credentials and personal data at any depth', () => {
    const { lines, stream } = capture();
    const logger = createLogger('identity', 'info', stream);
    logger.info(
      {
        password: 'hunter2',
        user: { email: 'ada@example.com', id: 'u1' },
        req: { headers: { authorization: 'Bearer abc', accept: 'json' } },
      },
      'login',
    );
    const [line] = lines();
    const text = JSON.stringify(line);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('Bearer abc');
    expect(line).toMatchObject({ service: 'identity', msg: 'login', user: { id: 'u1' } });
    expect((line?.['req'] as { headers: Record<string, string> }).headers.accept).toBe('json');
  });

  it('scrubs credentials from logged errors', () => {
    const { lines, stream } = capture();
    createLogger('audit', 'info', stream).error(
      { err: new Error('connect postgres://rampart:s3cret@db:5432/x failed') },
      'boom',
    );
    expect(JSON.stringify(lines())).not.toContain('s3cret');
  });

  it('scrubs credentials inside connection strings', () => {
    expect(scrubSecrets('connect postgres://rampart:s3cret@db:5432/x failed')).toBe(
      'connect postgres://rampart:[redacted]@db:5432/x failed',
    );
  });
});
