import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, ScimEvents, type ProblemDetails } from '@rampart/contracts';
import { LOGGER, Outbox, type Logger, type Principal } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { scimActor } from './scim.actor.js';
import { toScimError } from './scim.errors.js';

export const SCIM_PREFIX = '/scim/v2';
export const SCIM_CONTENT_TYPE = 'application/scim+json';
const ENDPOINTS = new Set(['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas']);

/** The route of a SCIM path with ids left out (`/scim/v2/Users/{id}`); unknown ones are `*`. */
function routeOf(path: string): string {
  const [endpoint, id, ...more] = path.slice(SCIM_PREFIX.length + 1).split('/');
  if (endpoint === undefined || !ENDPOINTS.has(endpoint) || more.some(Boolean)) {
    return `${SCIM_PREFIX}/*`;
  }
  return `${SCIM_PREFIX}/${endpoint}${id ? '/{id}' : ''}`;
}

/**
 * What makes `/scim/v2` speak SCIM on the wire, on top of the platform's HTTP stack:
 *
 * - request bodies typed `application/scim+json` are parsed as JSON (with Fastify's own parser,
 *   prototype-poisoning checks included; `application/json` is accepted as well);
 * - responses are typed `application/scim+json`;
 * - every error becomes the SCIM error body (RFC 7644 section 3.12), and a refused request is
 *   recorded as an event.
 *
 * Errors are converted in an `onSend` hook rather than by an exception filter on the SCIM
 * controllers, because some are raised before a controller is chosen (malformed JSON, a body
 * over the size limit, an unsupported media type, an unknown path below /scim/v2): those reach
 * only the platform's global ProblemDetailsFilter. The hook takes its problem document, so the
 * platform keeps deciding statuses, what a 5xx may say and what is logged, and the SCIM form is
 * the same whichever way an error came.
 */
@Injectable()
export class ScimHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addContentTypeParser(
      SCIM_CONTENT_TYPE,
      { parseAs: 'string' },
      fastify.getDefaultJsonParser('error', 'error'),
    );
    fastify.addHook('onSend', (request, reply, payload) => this.onSend(request, reply, payload));
  }

  private async onSend(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
  ): Promise<unknown> {
    const path = request.url.split('?')[0] ?? '';
    if (path !== SCIM_PREFIX && !path.startsWith(`${SCIM_PREFIX}/`)) return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('application/json')) {
      void reply.header('content-type', `${SCIM_CONTENT_TYPE}; charset=utf-8`);
    }
    if (!type.startsWith(PROBLEM_CONTENT_TYPE) || typeof payload !== 'string') return payload;
    const problem = JSON.parse(payload) as ProblemDetails;
    const body = toScimError(problem);
    await this.recordRefusal(request, path, problem.status, body.scimType);
    void reply.header('content-type', `${SCIM_CONTENT_TYPE}; charset=utf-8`);
    return JSON.stringify(body);
  }

  /**
   * A refused SCIM request is security-relevant (a provisioning credential probing, a token
   * without the scope, a client writing bad data). The event names the route, never the ids or
   * text the client sent. Failing to record must not turn the client's 4xx into something else.
   */
  private async recordRefusal(
    request: FastifyRequest,
    requestPath: string,
    status: number,
    scimType?: string,
  ) {
    if (status === 404 && request.method === 'GET') return; // a lookup, not a refusal
    const principal = (request as FastifyRequest & { principal?: Principal }).principal;
    const path = routeOf(requestPath);
    try {
      await this.dataSource.transaction((transaction) =>
        this.outbox.write(transaction, ScimEvents.requestRefused, {
          subject: path,
          data: {
            ...(principal?.kind === 'user' ? { actor: scimActor(principal) } : {}),
            method: request.method.slice(0, 16),
            path,
            status,
            ...(scimType === undefined ? {} : { scimType }),
          },
        }),
      );
    } catch (error) {
      this.logger.error({ err: error, status, path }, 'could not record a refused SCIM request');
    }
  }
}
