import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from '@rampart/contracts';
import { toProblem, type ProblemLogger } from './problem-details.js';
import { RampartError } from './rampart-error.js';

/**
 * Answers a request with the problem document for `error`, and the headers the error calls for
 * (a `WWW-Authenticate` challenge, a `Retry-After`). For Fastify routes outside Nest's controllers.
 */
export function replyWithProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  logger: ProblemLogger,
): FastifyReply {
  const problem = toProblem(error, request.url.split('?')[0] ?? '/', logger);
  if (error instanceof RampartError) void reply.headers(error.headers);
  return reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
}

/** Answers every error of an HTTP request with application/problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: ProblemLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    void replyWithProblem(request, reply, error, this.logger);
  }
}
