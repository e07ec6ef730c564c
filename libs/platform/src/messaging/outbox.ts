import type { EntityManager } from 'typeorm';
import type { EventDefinition } from '@rampart/contracts';
import { textArrayFromJson } from '../database/data-source.js';
import { createEvent, type NewEvent } from './event-factory.js';

const CLOUDEVENTS_HEADERS = JSON.stringify({ 'content-type': 'application/cloudevents+json' });

/** The channel a service's relay listens on to wake up when its outbox gains rows. */
export function outboxChannel(schema: string): string {
  return `rampart_outbox_${schema}`;
}

/**
 * Writes events into the service's outbox inside the caller's transaction, so an event exists if
 * and only if the state change that caused it was committed. The relay publishes it afterwards.
 */
export class Outbox {
  constructor(
    private readonly service: string,
    private readonly schema: string,
    private readonly tenant: string,
  ) {}

  /** Writes one event; returns its id. */
  async write<D extends EventDefinition>(
    transaction: EntityManager,
    definition: D,
    event: Omit<NewEvent<D>, 'tenant'> & { tenant?: string },
  ): Promise<string> {
    const [id] = await this.writeMany(transaction, [{ definition, ...event }]);
    return id!;
  }

  /**
   * Writes several events in one statement, in the given order (a state change that touches many
   * subjects, a bulk import). Every event is validated before anything is written.
   */
  async writeMany(
    transaction: EntityManager,
    events: readonly (Omit<NewEvent<EventDefinition>, 'tenant'> & {
      definition: EventDefinition;
      tenant?: string;
    })[],
  ): Promise<string[]> {
    if (!transaction.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.write needs the transaction of the state change it records');
    }
    if (events.length === 0) return [];
    const envelopes = events.map(({ definition, ...event }) => ({
      topic: definition.topic.name,
      envelope: createEvent(this.service, definition, {
        ...event,
        tenant: event.tenant ?? this.tenant,
      }),
    }));
    // One round trip for the rows and the relay's wake-up. The notification is delivered at
    // commit only and coalesced by PostgreSQL, so sending it with every write costs nothing more.
    await transaction.query(
      `WITH written AS (
         INSERT INTO outbox (event_id, topic, message_key, payload, headers)
         SELECT event_id, topic, message_key, payload, headers
           FROM unnest($1::uuid[], $2::text[], $3::text[], ${textArrayFromJson('$4')}, $5::jsonb[])
                WITH ORDINALITY AS row(event_id, topic, message_key, payload, headers, position)
          ORDER BY position
         RETURNING 1)
       SELECT pg_notify($6, '') FROM written LIMIT 1`,
      [
        envelopes.map(({ envelope }) => envelope.id),
        envelopes.map(({ topic }) => topic),
        envelopes.map(({ envelope }) => envelope.subject),
        JSON.stringify(envelopes.map(({ envelope }) => JSON.stringify(envelope))),
        envelopes.map(() => CLOUDEVENTS_HEADERS),
        outboxChannel(this.schema),
      ],
    );
    return envelopes.map(({ envelope }) => envelope.id);
  }
}
