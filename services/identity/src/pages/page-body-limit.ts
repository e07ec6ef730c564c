import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { RampartError } from '@rampart/platform';

/** Forms on the pages hold a few short fields; anything bigger is refused before it is read. */
export const PAGE_FORM_MAX_BYTES = 16 * 1024;
/** The pages' paths; `/account/v1/...` is the JSON administration API, not a page. */
const PAGE_PATHS = /^\/(account(?!\/v1\/)|interaction)(\/|$|\?)/;

/**
 * Caps the body of the pages' POSTs at 16 KiB (the service allows 1 MiB for its APIs), judged by
 * Content-Length before the body is read. Browsers always send it for a form.
 */
@Injectable()
export class PageBodyLimit implements OnModuleInit {
  constructor(private readonly http: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.http.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request, _reply, done) => {
      const length = Number(request.headers['content-length'] ?? 0);
      if (
        request.method === 'POST' &&
        PAGE_PATHS.test(request.url) &&
        length > PAGE_FORM_MAX_BYTES
      ) {
        done(new RampartError('payload-too-large', 'The form is larger than this page accepts.'));
        return;
      }
      done();
    });
  }
}
