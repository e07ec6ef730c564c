import { randomUUID } from 'node:crypto';
import proxy from '@fastify/http-proxy';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import {
  ERROR_CODES,
  PROBLEM_CONTENT_TYPE,
  problemType,
  SERVICE_ROUTES,
  type ErrorCode,
} from '@rampart/contracts';
import { WORKLOAD_ASSERTION_HEADER, type Logger } from '@rampart/platform';
import { upstreamUrl, type GatewayConfig } from '../config/gateway.config.js';

/** Headers a public caller may not set: they are only meaningful between services. */
const INTERNAL_HEADERS = [WORKLOAD_ASSERTION_HEADER, 'x-forwarded-host', 'forwarded'];

function sendUpstreamProblem(
  reply: FastifyReply,
  code: ErrorCode,
  service: string,
  errorId: string,
): void {
  void reply
    .status(ERROR_CODES[code].status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send({
      type: problemType(code),
      title: ERROR_CODES[code].title,
      status: ERROR_CODES[code].status,
      code,
      detail: `The ${service} service did not answer. Quote error id ${errorId} when reporting it.`,
      errorId,
      instance: reply.request.url.split('?')[0],
    });
}

/** A refused connection means the service is down (503); a timeout is 504; anything else 502. */
export function upstreamProblem(error: Error): ErrorCode {
  const failure = error as { statusCode?: number; code?: string; cause?: { code?: string } };
  const code = failure.cause?.code ?? failure.code;
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
 * Routes each public prefix of the service map to its service, path unchanged. Upstream failures
 * become problem+json 502/503/504; caller-supplied internal headers are dropped.
 */
export async function registerProxies(
  app: NestFastifyApplication,
  config: GatewayConfig,
  logger: Logger,
): Promise<void> {
  for (const route of SERVICE_ROUTES) {
    const upstream = upstreamUrl(config, route.service);
    for (const prefix of route.prefixes) {
      await app.register(proxy, {
        upstream,
        prefix,
        rewritePrefix: prefix,
        http: { requestOptions: { timeout: config.GATEWAY_UPSTREAM_TIMEOUT_MS } },
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => {
            const forwarded: Record<string, unknown> = { ...headers, 'x-request-id': request.id };
            for (const header of INTERNAL_HEADERS) delete forwarded[header];
            return forwarded as typeof headers;
          },
          onError: (reply, { error }) => {
            const problem = upstreamProblem(error);
            const errorId = randomUUID();
            logger.warn(
              { err: error, errorId, service: route.service, problem },
              'upstream failed',
            );
            sendUpstreamProblem(reply as unknown as FastifyReply, problem, route.service, errorId);
          },
        },
      });
    }
  }
}
