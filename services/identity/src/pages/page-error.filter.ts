import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LOGGER, toProblem, type Logger } from '@rampart/platform';
import { html } from './html.js';
import { PageRenderer } from './page-renderer.js';

/**
 * Errors on the pages become an HTML page with the right status, never a stack trace: 4xx show
 * their (safe) detail, 5xx an error id that is logged with the real error (platform `toProblem`).
 */
@Catch()
export class PageErrorFilter implements ExceptionFilter {
  constructor(
    private readonly pages: PageRenderer,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = toProblem(error, request.url.split('?')[0] ?? '/', this.logger);
    if (reply.sent) return;
    this.pages.send(request, reply, {
      title: problem.status >= 500 ? 'Something went wrong' : problem.title,
      status: problem.status,
      body: () =>
        html`<p>${problem.detail ?? 'The request could not be completed.'}</p>
          ${problem.errorId ? html`<p>Error id: <code>${problem.errorId}</code></p>` : ''}
          <p><a href="/account">Go to your account</a></p>`,
    });
  }
}
