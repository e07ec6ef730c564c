import { randomBytes } from 'node:crypto';
import { currentTraceHeaders } from '@rampart/platform';

/** W3C Trace Context version 00, with all-zero trace or parent ids invalid. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The `traceparent` a proxied request carries: the gateway's own span when telemetry runs (a
 * child of the caller's), else the caller's when well-formed, else a new trace. A new one is
 * marked sampled so that the services record it as they would a request that came to them first.
 */
export function traceparentFor(incoming: string | string[] | undefined): string {
  const active = currentTraceHeaders().traceparent;
  if (active) return active;
  if (typeof incoming === 'string' && TRACEPARENT.test(incoming.trim())) return incoming.trim();
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}
