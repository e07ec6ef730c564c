import { context, propagation, type Context } from '@opentelemetry/api';

/** The W3C trace headers of the active context, to carry inside an event. */
export function currentTraceHeaders(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const headers: { traceparent?: string; tracestate?: string } = {};
  if (carrier['traceparent']) headers.traceparent = carrier['traceparent'];
  if (carrier['tracestate']) headers.tracestate = carrier['tracestate'];
  return headers;
}

/** The context an event was produced in, to continue its trace while handling it. */
export function contextFromTraceHeaders(headers: {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}): Context {
  const carrier: Record<string, string> = {};
  if (headers.traceparent) carrier['traceparent'] = headers.traceparent;
  if (headers.tracestate) carrier['tracestate'] = headers.tracestate;
  return propagation.extract(context.active(), carrier);
}
