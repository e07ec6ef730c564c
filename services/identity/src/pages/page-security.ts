import { randomBytes } from 'node:crypto';

/** The gateway's nonces are 16 random bytes, base64; anything else in the header is ignored. */
const GATEWAY_NONCE = /^[A-Za-z0-9+/]{22}==$/;

/**
 * This response's CSP nonce: the one the gateway made for this request (CSP_NONCE_HEADER, ADR
 * 0029), so the page's `nonce` attributes match the policy the gateway sends; else a fresh one
 * (identity reached directly, as in its own tests). Either way a new one for every response.
 */
export function pageNonce(fromGateway: string | string[] | undefined): string {
  return typeof fromGateway === 'string' && GATEWAY_NONCE.test(fromGateway)
    ? fromGateway
    : randomBytes(16).toString('base64');
}

/**
 * The origins a form on this page may end up at: `'self'` always, plus the origins of redirects
 * that follow a form post (a client's redirect_uri after sign-in or consent). Chromium applies
 * `form-action` to every redirect of a form submission, so these must be listed.
 */
export function formActionSources(redirectTargets: readonly string[] = []): string[] {
  const origins = new Set<string>();
  for (const target of redirectTargets) {
    try {
      const url = new URL(target);
      // Only web origins can be a CSP host source; a custom scheme (app callback) goes by scheme.
      origins.add(
        url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol,
      );
    } catch {
      // Not a URL: nothing to allow.
    }
  }
  return ["'self'", ...[...origins].filter((origin) => /^[\w+.:/[\]-]+$/.test(origin))];
}

/**
 * Headers every page carries: a CSP that allows only our own stylesheet and images, scripts only
 * with this response's nonce (the pages have none today), no framing, no `<base>`, and forms only
 * to `formAction`; no MIME sniffing, no referrer, no caching of pages that hold personal data or
 * CSRF tokens.
 */
export function pageSecurityHeaders(
  nonce: string,
  formAction: readonly string[] = ["'self'"],
): Record<string, string> {
  const policy = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return {
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}
