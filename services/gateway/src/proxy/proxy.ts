import proxy from '@fastify/http-proxy';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CSP_NONCE_HEADER, SERVICE_ROUTES, type ErrorCode } from '@rampart/contracts';
import {
  RampartError,
  replyWithProblem,
  WORKLOAD_ASSERTION_HEADER,
  type Logger,
} from '@rampart/platform';
import { upstreamUrl, type GatewayConfig } from '../config/gateway.config.js';
import type { EdgeTokens } from '../edge/edge-tokens.js';
import { bodyRuleFor, enforceBodyRule } from '../limits/request-limits.js';
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
 * Routes each public prefix of the service map to its service, path unchanged. Before a request
 * goes upstream, the APIs that need one get their access token checked (`edge/`), and the body its
 * prefix's limits (`limits/`). Upstream failures become problem+json 502/503/504; caller-supplied
 * internal headers are dropped, and the request carries the gateway's CSP nonce (ADR 0029) and a
 * `traceparent`.
 */
export async function registerProxies(
  app: NestFastifyApplication,
  config: GatewayConfig,
  logger: Logger,
  protocol: ClientProtocol,
  edgeTokens: EdgeTokens,
): Promise<void> {
  await app.register(async (scope: FastifyInstance) => {
    // Refusals from the checks below, as problem+json with their challenge headers.
    scope.setErrorHandler((error, request, reply) => {
      // Refused before its body was read: close the connection rather than drain what is left,
      // so a caller cannot keep the gateway reading a body it has already said no to.
      if (!request.raw.complete) void reply.header('connection', 'close');
      replyWithProblem(request, reply, error, logger);
    });
    for (const route of SERVICE_ROUTES) {
      for (const prefix of route.prefixes) {
        await registerProxy(scope, route.service, prefix);
      }
    }
  });

  async function registerProxy(
    scope: FastifyInstance,
    service: (typeof SERVICE_ROUTES)[number]['service'],
    prefix: string,
  ): Promise<void> {
    const bodyRule = bodyRuleFor(prefix);
    const limits = { maxJsonDepth: config.GATEWAY_MAX_JSON_DEPTH };
    // Each proxy in its own context, so the token check can run first, before Fastify reads a
    // byte of the body: an unauthenticated caller gets 401, whatever it sends.
    await scope.register(async (context: FastifyInstance) => {
      if (edgeTokens.protects(prefix))
        context.addHook('onRequest', (request) => edgeTokens.admit(request, prefix));
      await context.register(proxy, {
        upstream: upstreamUrl(config, service),
        prefix,
        rewritePrefix: prefix,
        preHandler: (request, _reply, done) => {
          enforceBodyRule(request, bodyRule, limits).then(() => done(), done);
        },
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
              `${service} did not answer: ${error.message} (${upstreamCode(error) ?? 'no code'})`,
              {},
              { cause: error },
            );
            const fastifyReply = reply as unknown as FastifyReply;
            replyWithProblem(fastifyReply.request, fastifyReply, failure, logger);
          },
        },
      });
    });
  }
}
