import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from '@rampart/contracts';
import type { AllowedMethods } from '../http/allowed-methods.js';
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
  constructor(
    private readonly logger: ProblemLogger,
    /** Routes by path; with it, a known path asked with the wrong method is 405, not 404. */
    private readonly allowedMethods?: AllowedMethods,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    replyWithProblem(
      request,
      http.getResponse<FastifyReply>(),
      this.methodNotAllowed(request, error) ?? error,
      this.logger,
    );
  }

  /** A 404 from no route matching, where the path has routes for other methods. */
  private methodNotAllowed(request: FastifyRequest, error: unknown): RampartError | undefined {
    if (!this.allowedMethods || request.routeOptions.url !== undefined) return undefined;
    if (!(error instanceof HttpException) || error.getStatus() !== 404) return undefined;
    const allowed = this.allowedMethods.of(request.url.split('?')[0] ?? '/');
    if (allowed.length === 0) return undefined;
    return new RampartError(
      'method-not-allowed',
      `${request.method} is not allowed here; this resource answers ${allowed.join(', ')}.`,
      {},
      { headers: { allow: allowed.join(', ') } },
    );
  }
}
