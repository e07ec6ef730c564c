import { randomBytes } from 'node:crypto';

/** Where browsers send violation reports (`report-uri`, and `Reporting-Endpoints` as `csp`). */
export const CSP_REPORT_PATH = '/csp-reports';

/** A fresh nonce per response: 16 random bytes, base64 (CSP 3 asks for at least 128 bits). */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

const ALWAYS = [
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  'report-to csp',
  `report-uri ${CSP_REPORT_PATH}`,
];

/**
 * Responses that are not pages (JSON, CSS, redirects, problems) load nothing, so they get a policy
 * that allows nothing: a document mistaken for HTML still runs no script and cannot be framed.
 */
export const API_POLICY = ["default-src 'none'", "form-action 'none'", ...ALWAYS].join('; ');

/**
 * A page's policy: scripts only with this response's nonce, our own stylesheet and images, forms
 * only to our origin plus the redirect targets the rendering service named (see
 * `formActionExtras`). `default-src 'none'` rather than `'self'`: anything the pages do not use
 * (fonts, frames, connections) stays refused.
 */
export function pagePolicy(nonce: string, formActionExtras: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${["'self'", ...formActionExtras].join(' ')}`,
    ...ALWAYS,
  ].join('; ');
}

/** A web origin exactly (`https://app.example:8443`, no path) or a bare custom scheme (`com.example.app:`). */
function isConcreteTarget(source: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:$/i.test(source))
    return !/^(https?|wss?|data|blob|javascript|filesystem):$/i.test(source);
  try {
    const url = new URL(source);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.origin === source &&
      // The URL parser accepts `*` in a host; CSP would read it as a wildcard.
      /^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/i.test(url.hostname)
    );
  } catch {
    return false;
  }
}

/**
 * The one thing a service may add to a page's policy: the origins its forms redirect to after a
 * post (a client's redirect_uri after sign-in or consent), which only identity knows and Chromium
 * checks against `form-action`. Taken from the `form-action` of the service's own policy and kept
 * only when each is a concrete origin or scheme: no `*`, no keywords, no paths, no wildcards. A
 * non-web scheme such as `https:` alone is refused too (it would allow every site).
 */
export function formActionExtras(upstreamPolicy: unknown): string[] {
  if (typeof upstreamPolicy !== 'string') return [];
  const directive = upstreamPolicy
    .split(';')
    .map((part) => part.trim().split(/\s+/))
    .find(([name]) => name?.toLowerCase() === 'form-action');
  if (!directive) return [];
  return [...new Set(directive.slice(1).filter(isConcreteTarget))];
}
