import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CSP_NONCE_HEADER } from '@rampart/contracts';
import { CsrfProtection, CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { layout, type Page } from './layout.js';
import { formActionSources, pageNonce, pageSecurityHeaders } from './page-security.js';

/** The CSRF protection of the pages, built once from the configuration (pages.module.ts). */
export const PAGES_CSRF = Symbol('rampart.identity.pages-csrf');

/**
 * Sends pages: a fresh nonce and CSRF token per response, the security headers, and the layout.
 * Controllers describe a page; nothing else writes HTML to a reply.
 */
@Injectable()
export class PageRenderer {
  constructor(@Inject(PAGES_CSRF) readonly csrf: CsrfProtection) {}

  send(request: FastifyRequest, reply: FastifyReply, page: Page): FastifyReply {
    const nonce = pageNonce(request.headers[CSP_NONCE_HEADER]);
    const token = this.csrf.token(request, reply);
    const csrf = html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
    const document = layout(page, { nonce, csrf });
    return reply
      .status(page.status ?? 200)
      .headers(pageSecurityHeaders(nonce, formActionSources(page.formRedirects)))
      .type('text/html; charset=utf-8')
      .send(document.value);
  }

  /** 303 See Other after a successful POST, so reloading the next page does not post again. */
  redirect(reply: FastifyReply, location: string): FastifyReply {
    return reply
      .status(303)
      .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
      .redirect(location, 303);
  }
}
