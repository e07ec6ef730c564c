import type { FastifyRequest } from 'fastify';
import type { LoginContext } from '../accounts/accounts.service.js';

/**
 * Who is asking, for the login and account events. Identity is reached through the gateway, which
 * appends the address it saw to X-Forwarded-For: the last entry is the one our own edge vouches
 * for (earlier ones are whatever the client sent). Without the header, the socket's address.
 */
export function loginContext(request: FastifyRequest): LoginContext {
  const forwarded = request.headers['x-forwarded-for'];
  const last = (typeof forwarded === 'string' ? forwarded : forwarded?.at(-1))
    ?.split(',')
    .at(-1)
    ?.trim();
  const ip = (last || request.ip || 'unknown').slice(0, 64);
  const userAgent = request.headers['user-agent'];
  return { ip, ...(userAgent ? { userAgent: userAgent.slice(0, 1024) } : {}) };
}

/** The urlencoded form of a POST (Nest's Fastify adapter parses it), or an empty one. */
export function formOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}
