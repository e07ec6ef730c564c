import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from '@rampart/contracts';
import { toProblem, type ProblemLogger } from './problem-details.js';
import { RampartError } from './rampart-error.js';

/**
 * Answers `error` with its problem document. A problem may quote the request (its `instance`, a
 * framework's detail), so it is marked `nosniff` where it is made: no browser may read it as
 * anything but JSON, also where no gateway hook runs (the router's own refusals).
 */
export function replyWithProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  logger: ProblemLogger,
): void {
  const problem = toProblem(error, request.url.split('?')[0] ?? '/', logger);
  if (error instanceof RampartError) void reply.headers(error.headers);
  void reply
    .status(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('x-content-type-options', 'nosniff')
    .send(problem);
}

/** Answers every error of an HTTP request with application/problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: ProblemLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    replyWithProblem(
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      error,
      this.logger,
    );
  }
}
