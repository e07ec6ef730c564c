import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from '@rampart/contracts';
import { RampartError, toProblem, type Logger } from '@rampart/platform';

/**
 * Cross-origin access by explicit allowlist per route prefix (docs/architecture/security.md,
 * "CORS"). The gateway owns CORS: whatever `Access-Control-*` headers a service sends are
 * dropped, and only an allowlisted origin on its prefix is answered, always by name (never `*`),
 * with credentials allowed, since a name cannot be combined with a wildcard by mistake. Without
 * an allowlist nothing is cross-origin: browsers keep other sites' pages out.
 */
export type CorsAllowlist = ReadonlyMap<string, ReadonlySet<string>>;

/** Methods and request headers a cross-origin caller may use (what the APIs take). */
const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ALLOWED_REQUEST_HEADERS = new Set([
  'authorization',
  'content-type',
  'dpop',
  'if-match',
  'if-none-match',
  'x-request-id',
]);
/** Response headers a cross-origin script may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS =
  'etag, location, retry-after, ratelimit, ratelimit-policy, www-authenticate, dpop-nonce, x-request-id';
/** Preflights the gateway answered itself, allowed or refused: their headers are its own. */
const preflights = new WeakMap<FastifyRequest, 'allowed' | 'refused'>();

/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * Parses `GATEWAY_CORS_ALLOWLIST`: `<prefix>=<origin> <origin>;<prefix>=<origin>`, e.g.
 * `/oidc/token=https://app.example;/authz=https://admin.example https://ops.example`. Throws with
 * the reason for anything but a path prefix and exact `scheme://host[:port]` origins (`*`,
 * `null`, paths and wildcards are refused).
 */
export function parseCorsAllowlist(value: string): CorsAllowlist {
  const allowlist = new Map<string, Set<string>>();
  for (const entry of value
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [prefix = '', origins = '', ...rest] = entry.split('=');
    if (rest.length > 0 || !/^\/[\w./-]*$/.test(prefix) || prefix.includes('..')) {
      throw new Error(`"${entry}" is not <path prefix>=<origin> <origin>...`);
    }
    const set = allowlist.get(prefix) ?? new Set<string>();
    for (const origin of origins.split(/\s+/).filter(Boolean)) {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new Error(`"${origin}" is not an origin`);
      }
      if (!/^https?:$/.test(parsed.protocol) || parsed.origin !== origin || origin.includes('*')) {
        throw new Error(`"${origin}" is not an exact origin (scheme://host[:port], no path, no *)`);
      }
      set.add(origin);
    }
    if (set.size === 0) throw new Error(`"${entry}" names no origin`);
    allowlist.set(prefix, set);
  }
  return allowlist;
}

/** The allowlist of the longest prefix the path is under (segment-wise), if any. */
function originsFor(allowlist: CorsAllowlist, path: string): ReadonlySet<string> | undefined {
  let best: string | undefined;
  for (const prefix of allowlist.keys()) {
    const under = path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
    if (under && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : allowlist.get(best);
}

/** The caller's origin when it is allowed on this request's path, else undefined. */
function allowedOrigin(allowlist: CorsAllowlist, request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return undefined;
  const path = request.url.split('?')[0] ?? '/';
  return originsFor(allowlist, path)?.has(origin) ? origin : undefined;
}

export function registerCors(
  app: NestFastifyApplication,
  allowlist: CorsAllowlist,
  logger: Logger,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Preflights are the gateway's to answer: they never reach a service.
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS' || !request.headers['access-control-request-method']) return;
    const origin = allowedOrigin(allowlist, request);
    const method = String(request.headers['access-control-request-method']).toUpperCase();
    const headers = String(request.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((header) => header.trim().toLowerCase())
      .filter(Boolean);
    const refusal =
      origin === undefined
        ? 'This origin may not call this path.'
        : !ALLOWED_METHODS.includes(method)
          ? `The method ${method} is not allowed cross-origin.`
          : headers.find((header) => !ALLOWED_REQUEST_HEADERS.has(header)) !== undefined
            ? 'A requested header is not allowed cross-origin.'
            : undefined;
    if (refusal !== undefined) {
      preflights.set(request, 'refused');
      const problem = toProblem(
        new RampartError('forbidden', refusal),
        request.url.split('?')[0] ?? '/',
        logger,
      );
      await reply
        .status(problem.status)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .header('vary', 'origin')
        .send(problem);
      return reply;
    }
    preflights.set(request, 'allowed');
    await reply
      .status(204)
      .headers({
        'access-control-allow-origin': origin!,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': ALLOWED_METHODS.join(', '),
        'access-control-allow-headers': [...ALLOWED_REQUEST_HEADERS].join(', '),
        'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
        vary: 'origin',
      })
      .send();
    return reply;
  });
  fastify.addHook('onSend', async (request, reply) => {
    const preflight = preflights.get(request);
    if (preflight === 'allowed') return;
    for (const name of Object.keys(reply.getHeaders())) {
      if (name.toLowerCase().startsWith('access-control-')) reply.removeHeader(name);
    }
    // Every answer may differ by origin, so caches must key on it.
    const vary = reply.getHeader('vary');
    if (typeof vary !== 'string' || !/\borigin\b/i.test(vary)) {
      void reply.header('vary', typeof vary === 'string' && vary ? `${vary}, origin` : 'origin');
    }
    const origin = preflight === 'refused' ? undefined : allowedOrigin(allowlist, request);
    if (origin === undefined) return;
    void reply.headers({
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': EXPOSED_HEADERS,
    });
  });
}
