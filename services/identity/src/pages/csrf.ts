import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { RampartError } from '@rampart/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hostCookie, readCookie } from './cookies.js';

/** The browser's CSRF secret: random, per browser, readable by no script and no other origin. */
export const CSRF_COOKIE = '__Host-rampart-csrf';
/** The hidden form field carrying the token. */
export const CSRF_FIELD = '_csrf';

const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * CSRF protection for every form (ADR 0017): a signed double-submit token. The cookie holds a
 * random browser id; a form carries HMAC(key, id), which only this server can compute. A POST is
 * accepted when the form's token matches the cookie's id, and the browser's own provenance
 * headers do not say the request came from another site. The key is derived from
 * IDENTITY_COOKIE_SECRET, so every replica accepts every other's tokens.
 */
export class CsrfProtection {
  private readonly key: Buffer;

  constructor(
    secret: string,
    /** The public origin the pages are served on (the issuer's). */
    private readonly origin: string,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, '', 'rampart pages csrf v1', 32));
  }

  /** The token for this browser's forms, setting the cookie first if the browser has none. */
  token(request: FastifyRequest, reply: FastifyReply): string {
    let id = readCookie(request.headers.cookie, CSRF_COOKIE);
    if (!id || !BROWSER_ID.test(id)) {
      id = randomBytes(32).toString('base64url');
      void reply.header('set-cookie', hostCookie(CSRF_COOKIE, id));
    }
    return this.sign(id);
  }

  /** Throws 403 unless the POST carries this browser's token and comes from our own pages. */
  verify(request: FastifyRequest, submitted: unknown): void {
    const site = request.headers['sec-fetch-site'];
    // Browsers that send it say where the request came from; only our own pages may post.
    if (site !== undefined && site !== 'same-origin') throw refused();
    const origin = request.headers.origin;
    // `Origin: null` is what Chromium sends on a same-origin POST from a page with
    // `Referrer-Policy: no-referrer` (Fetch spec): it proves nothing either way, the token decides.
    if (origin !== undefined && origin !== 'null' && origin !== this.origin) throw refused();
    const id = readCookie(request.headers.cookie, CSRF_COOKIE);
    if (!id || !BROWSER_ID.test(id) || typeof submitted !== 'string') throw refused();
    const expected = Buffer.from(this.sign(id));
    const given = Buffer.from(submitted);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused();
  }

  private sign(id: string): string {
    return createHmac('sha256', this.key).update(id).digest('base64url');
  }
}

function refused(): RampartError {
  return new RampartError(
    'forbidden',
    'This form has expired or did not come from this site. Go back, reload the page and try again.',
  );
}
