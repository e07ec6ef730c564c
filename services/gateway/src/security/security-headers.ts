import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import type { ClientProtocol } from './client-protocol.js';
import {
  API_POLICY,
  createNonce,
  CSP_REPORT_PATH,
  formActionExtras,
  pagePolicy,
} from './content-security-policy.js';

/**
 * The OWASP Secure Headers set, on every response the gateway sends (docs/architecture/security.md
 * lists each and why). Applied in `onSend`, after a proxied service's headers were copied, so a
 * service's own value is replaced, never kept.
 */
export const STATIC_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Powerful features no Rampart page uses; a script injected anyway cannot ask for them.
  'permissions-policy':
    'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), browsing-topics=()',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

export const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * Public metadata that never depends on who asks, where a service's own `Cache-Control` is kept
 * on success: signing keys, discovery, the pages' stylesheet and security.txt. Everything else
 * (API answers, pages, redirects, errors) is `no-store`.
 */
const CACHEABLE = [
  /^\/kms\/v1\/jwks$/,
  /^\/oidc\/jwks$/,
  /^\/\.well-known\/openid-configuration$/,
  /^\/\.well-known\/oauth-authorization-server$/,
  /^\/\.well-known\/security\.txt$/,
  /^\/account\/assets\/[\w.-]+$/,
];

/** Headers services (or the HTTP stack) send that tell an attacker what runs here. */
const DISCLOSING = ['server', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version'];

const nonces = new WeakMap<object, string>();

/** This request's CSP nonce, made once and shared by the proxy hand-off and the response policy. */
export function requestNonce(request: object): string {
  let nonce = nonces.get(request);
  if (!nonce) {
    nonce = createNonce();
    nonces.set(request, nonce);
  }
  return nonce;
}

function isHtml(reply: FastifyReply): boolean {
  const type = reply.getHeader('content-type');
  return typeof type === 'string' && /^\s*text\/html\b/i.test(type);
}

export function registerSecurityHeaders(app: NestFastifyApplication, protocol: ClientProtocol) {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, _reply, done) => {
    protocol.of(request);
    done();
  });
  fastify.addHook('onSend', async (request, reply) => {
    for (const header of DISCLOSING) reply.removeHeader(header);
    reply.removeHeader('content-security-policy-report-only');
    const upstreamPolicy = reply.getHeader('content-security-policy');
    void reply.headers(STATIC_SECURITY_HEADERS);
    void reply.header(
      'content-security-policy',
      isHtml(reply)
        ? pagePolicy(requestNonce(request), formActionExtras(upstreamPolicy))
        : API_POLICY,
    );
    void reply.header('reporting-endpoints', `csp="${CSP_REPORT_PATH}"`);
    // Over plain HTTP the header is meaningless (RFC 6797 8.1) and would pin a development host.
    if (protocol.of(request) === 'https') void reply.header('strict-transport-security', HSTS);
    else reply.removeHeader('strict-transport-security');
    const path = request.url.split('?')[0] ?? '/';
    const cacheable =
      reply.statusCode === 200 &&
      reply.hasHeader('cache-control') &&
      CACHEABLE.some((pattern) => pattern.test(path));
    if (!cacheable) void reply.header('cache-control', 'no-store');
  });
}
