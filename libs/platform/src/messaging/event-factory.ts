import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CloudEventEnvelope, EventDefinition } from '@rampart/contracts';
import { currentTraceHeaders } from '../telemetry/trace-context.js';

/** Refused at produce: the data does not satisfy the event's schema. */
export class InvalidEventError extends Error {
  constructor(type: string, issues: string) {
    super(`Refusing to produce ${type}: ${issues}`);
    this.name = 'InvalidEventError';
  }
}

export interface NewEvent<D extends EventDefinition> {
  subject: string;
  data: z.input<D['data']>;
  tenant: string;
}

/**
 * Builds the CloudEvent for `definition`, validating its data first, and stamps it with the
 * current trace context so the consumer's work joins the producer's trace.
 */
export function createEvent<D extends EventDefinition>(
  source: string,
  definition: D,
  event: NewEvent<D>,
): CloudEventEnvelope {
  const data = definition.data.safeParse(event.data);
  if (!data.success) throw new InvalidEventError(definition.type, z.prettifyError(data.error));
  if (!event.subject) throw new InvalidEventError(definition.type, 'subject is required');
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: `/rampart/${source}`,
    type: definition.type,
    subject: event.subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: data.data,
    tenant: event.tenant,
    ...currentTraceHeaders(),
  };
}
