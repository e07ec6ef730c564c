import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { z } from 'zod';
import { defineEvent, defineTopic } from '@rampart/contracts';
import { createEvent } from '../messaging/event-factory.js';
import { contextFromTraceHeaders } from './trace-context.js';

const probe = defineEvent({
  type: 'rampart.test.probe.traced',
  topic: defineTopic({ service: 'test', aggregate: 'trace', version: 1, description: 'test' }),
  data: z.object({}),
  description: 'test',
});

describe('trace context inside events', () => {
  // What the NodeSDK registers in a running service.
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    propagation.disable();
    context.disable();
  });

  it('stamps the producing trace on the event and restores it for the consumer', () => {
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    };
    const active = trace.setSpanContext(context.active(), spanContext);
    const event = context.with(active, () =>
      createEvent('identity', probe, { subject: 's', data: {}, tenant: 't' }),
    );
    expect(event.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');

    const restored = trace.getSpanContext(contextFromTraceHeaders(event));
    expect(restored?.traceId).toBe(spanContext.traceId);
    expect(restored?.spanId).toBe(spanContext.spanId);
  });

  it('produces no trace headers outside a trace', () => {
    const event = createEvent('identity', probe, { subject: 's', data: {}, tenant: 't' });
    expect(event.traceparent).toBeUndefined();
  });
});
