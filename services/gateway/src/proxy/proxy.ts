import proxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  CSP_NONCE_HEADER,
  PROBLEM_CONTENT_TYPE,
  SERVICE_ROUTES,
  type ErrorCode,
} from '@rampart/contracts';
import {
  RampartError,
  replyWithProblem,
  toProblem,
  WORKLOAD_ASSERTION_HEADER,
  type Logger,
} from '@rampart/platform';
import { upstreamUrl, type GatewayConfig } from '../config/gateway.config.js';
import type { ClientProtocol } from '../security/client-protocol.js';
import { requestNonce } from '../security/security-headers.js';
import { traceparentFor } from './traceparent.js';

/** Headers a public caller may not set: they are only meaningful between services. */
const INTERNAL_HEADERS = [
  WORKLOAD_ASSERTION_HEADER,
  CSP_NONCE_HEADER,
  'x-forwarded-host',
  'forwarded',
];

/** A refused connection means the service is down (503); a timeout is 504; anything else 502. */
function upstreamCode(error: Error): string | undefined {
  const failure = error as { code?: string; cause?: { code?: string } };
  return failure.cause?.code ?? failure.code;
}

export function upstreamProblem(error: Error): ErrorCode {
  const failure = error as { statusCode?: number };
  const code = upstreamCode(error);
  if (
    failure.statusCode === 504 ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return 'gateway-timeout';
  }
  if (failure.statusCode === 503 || code === 'ECONNREFUSED' || code === 'ENOTFOUND')
    return 'service-unavailable';
  return 'bad-gateway';
}

/**
 * The proxy in a scope of its own that answers its errors as problem documents. It refuses some
 * paths itself before forwarding (one whose decoded form leaves the prefix, such as an encoded
 * "../"); those errors reach the scope's error handler, not Nest's filters, which are installed
 * later and only at the root, so the caller would otherwise get Fastify's own JSON.
 */
function problemAnsweringProxy(logger: Logger) {
  return async (scope: FastifyInstance, options: FastifyHttpProxyOptions) => {
    scope.setErrorHandler((error, request, reply) =>
      replyWithProblem(request, reply, error, logger),
    );
    // The scope already carries the prefix (Fastify applies `options.prefix` to it); the proxy
    // reads it from there, and a second prefix would double it.
    await scope.register(proxy, { ...options, prefix: '' });
  };
}

/**
 * Routes each public prefix of the service map to its service, path unchanged. Upstream failures
 * become problem+json 502/503/504; caller-supplied internal headers are dropped, and the request
 * carries the gateway's CSP nonce (ADR 0029) and a `traceparent`.
 */
export async function registerProxies(
  app: NestFastifyApplication,
  config: GatewayConfig,
  logger: Logger,
  protocol: ClientProtocol,
): Promise<void> {
  for (const route of SERVICE_ROUTES) {
    const upstream = upstreamUrl(config, route.service);
    for (const prefix of route.prefixes) {
      await app.register(problemAnsweringProxy(logger), {
        upstream,
        prefix,
        rewritePrefix: prefix,
        // undici, kept-alive and pipelined per upstream: about a third less CPU per proxied
        // request than Node's http client (docs/benchmarks.md, identity through the gateway).
        undici: {
          connections: 64,
          headersTimeout: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
          bodyTimeout: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
        },
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => {
            const forwarded: Record<string, unknown> = { ...headers, 'x-request-id': request.id };
            for (const header of INTERNAL_HEADERS) delete forwarded[header];
            // The edge states who connected and how; a caller's own claims are replaced, so a
            // service trusting one hop (identity's login events, rate limits) sees the real peer.
            forwarded['x-forwarded-for'] = request.ip;
            forwarded['x-forwarded-proto'] = protocol.of(request);
            forwarded['traceparent'] = traceparentFor(request.headers['traceparent']);
            // The page's nonce attributes must match the policy the gateway will send.
            forwarded[CSP_NONCE_HEADER] = requestNonce(request);
            return forwarded as typeof headers;
          },
          onError: (reply, { error }) => {
            // The same problem document as any 5xx: the cause is logged under an error id.
            const failure = new RampartError(
              upstreamProblem(error),
              // Logged, never sent: 5xx details stay with the error id.
              `${route.service} did not answer: ${error.message} (${upstreamCode(error) ?? 'no code'})`,
              {},
              { cause: error },
            );
            const problem = toProblem(failure, reply.request.url.split('?')[0] ?? '/', logger);
            void (reply as unknown as FastifyReply)
              .status(problem.status)
              .header('content-type', PROBLEM_CONTENT_TYPE)
              .send(problem);
          },
        },
      });
    }
  }
}
