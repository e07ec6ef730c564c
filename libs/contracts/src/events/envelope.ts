import { z } from 'zod';
import type { ServiceName } from '../services/services.js';

/** W3C trace-context `traceparent`: version-traceid-parentid-flags. */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/**
 * CloudEvents 1.0 structured-mode envelope with Rampart's two extensions: `traceparent` (the W3C
 * trace context of the producing request) and `tenant`. `data` is checked separately, against the
 * schema of the event's `type`.
 */
export const cloudEventSchema = z.strictObject({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().regex(/^\/rampart\/[a-z][a-z-]*$/, 'must be /rampart/<service>'),
  type: z.string().regex(/^rampart\.[a-z][a-z-]*\.[a-z][a-z-]*\.[a-z][a-z_-]*$/),
  subject: z.string().min(1).max(256),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  traceparent: z.string().regex(TRACEPARENT).optional(),
  tracestate: z.string().max(512).optional(),
  tenant: z.string().min(1).max(64),
});

export type CloudEventEnvelope = z.infer<typeof cloudEventSchema>;

/** A topic name: `rampart.<service>.<aggregate>.v<major>`. */
export type TopicName = `rampart.${string}.${string}.v${number}`;

export interface TopicDefinition {
  readonly name: TopicName;
  readonly service: ServiceName | 'test';
  readonly aggregate: string;
  readonly version: number;
  readonly description: string;
}

export function defineTopic(spec: Omit<TopicDefinition, 'name'>): TopicDefinition {
  const name = `rampart.${spec.service}.${spec.aggregate}.v${spec.version}` as TopicName;
  return { ...spec, name };
}

/** The dead-letter topic for a topic. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * One kind of event: the topic it travels on, its CloudEvents `type`, and the zod schema its
 * `data` must satisfy on produce and on consume.
 */
export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly topic: TopicDefinition;
  readonly data: S;
  readonly description: string;
}

export function defineEvent<const T extends string, S extends z.ZodType>(
  spec: EventDefinition<T, S>,
): EventDefinition<T, S> {
  return spec;
}

/** A validated event of one definition. */
export type EventOf<D extends EventDefinition> = Omit<CloudEventEnvelope, 'data' | 'type'> & {
  type: D['type'];
  data: z.infer<D['data']>;
};

export type EventValidation =
  | { ok: true; event: CloudEventEnvelope; definition: EventDefinition }
  | { ok: false; reason: string };

/**
 * Validates a decoded message against the envelope and, by its type, against the data schema of
 * one of `definitions`. Unknown types are refused: a consumer only accepts what it declared.
 */
export function validateEvent(
  candidate: unknown,
  definitions: ReadonlyMap<string, EventDefinition>,
): EventValidation {
  const envelope = cloudEventSchema.safeParse(candidate);
  if (!envelope.success) {
    return { ok: false, reason: `envelope: ${z.prettifyError(envelope.error)}` };
  }
  const definition = definitions.get(envelope.data.type);
  if (!definition) {
    return { ok: false, reason: `unknown event type ${envelope.data.type}` };
  }
  const data = definition.data.safeParse(envelope.data.data);
  if (!data.success) {
    return { ok: false, reason: `data of ${definition.type}: ${z.prettifyError(data.error)}` };
  }
  return { ok: true, event: { ...envelope.data, data: data.data }, definition };
}
