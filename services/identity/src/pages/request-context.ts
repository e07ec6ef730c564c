import type { FastifyRequest } from 'fastify';
import type { LoginContext } from '../accounts/accounts.service.js';

/**
 * Who is asking, for the login and account events. Data services trust exactly one proxy hop
 * (the gateway states the peer in X-Forwarded-For), so Fastify's `request.ip` is the client.
 */
export function loginContext(request: FastifyRequest): LoginContext {
  const userAgent = request.headers['user-agent'];
  return {
    ip: (request.ip || 'unknown').slice(0, 64),
    ...(userAgent ? { userAgent: userAgent.slice(0, 1024) } : {}),
  };
}

/** The urlencoded form of a POST (Nest's Fastify adapter parses it), or an empty one. */
export function formOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}
