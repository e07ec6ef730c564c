import { describe, expect, it, jest } from '@jest/globals';
import { NotFoundException } from '@nestjs/common';
import { toProblem } from './problem-details.js';
import { RampartError } from './rampart-error.js';

describe('toProblem', () => {
  const logger = { error: jest.fn() };

  it('keeps the detail and code of a client error', () => {
    const problem = toProblem(new RampartError('conflict', 'key exists'), '/kms/v1/keys', logger);
    expect(problem).toMatchObject({
      type: 'urn:rampart:problem:conflict',
      status: 409,
      code: 'conflict',
      detail: 'key exists',
      instance: '/kms/v1/keys',
    });
    expect(problem.errorId).toBeUndefined();
  });

  it('hides the cause of a server error behind a logged error id', () => {
    logger.error.mockClear();
    const problem = toProblem(new Error('password=hunter2 at db.ts:12'), '/x', logger);
    expect(problem.status).toBe(500);
    expect(problem.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(problem)).not.toContain('hunter2');
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ errorId: problem.errorId }),
      'request failed',
    );
  });

  it('maps framework errors by status', () => {
    const problem = toProblem(new NotFoundException('Cannot GET /nope'), '/nope', logger);
    expect(problem).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('names a framework 400 a bad request, the general code of the status', () => {
    // Fastify's router refusing a malformed percent-encoding: an error with only a status.
    const malformed = Object.assign(new Error("'/kms/v1/keys/%c0' is not a valid url component"), {
      statusCode: 400,
    });
    expect(toProblem(malformed, '/kms/v1/keys/%c0', logger)).toMatchObject({
      status: 400,
      code: 'bad-request',
      title: 'Bad request',
    });
  });
});
