import type { EntityManager } from 'typeorm';
import type { EventDefinition } from '@rampart/contracts';
import { createEvent, type NewEvent } from './event-factory.js';

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

  async write<D extends EventDefinition>(
    transaction: EntityManager,
    definition: D,
    event: Omit<NewEvent<D>, 'tenant'> & { tenant?: string },
  ): Promise<string> {
    if (!transaction.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.write needs the transaction of the state change it records');
    }
    const envelope = createEvent(this.service, definition, {
      ...event,
      tenant: event.tenant ?? this.tenant,
    });
    await transaction.query(
      `INSERT INTO outbox (event_id, topic, message_key, payload, headers) VALUES ($1, $2, $3, $4, $5)`,
      [
        envelope.id,
        definition.topic.name,
        envelope.subject,
        JSON.stringify(envelope),
        JSON.stringify({ 'content-type': 'application/cloudevents+json' }),
      ],
    );
    // Delivered at commit only, and coalesced by PostgreSQL: cheap to send on every write.
    await transaction.query(`SELECT pg_notify($1, '')`, [outboxChannel(this.schema)]);
    return envelope.id;
  }
}
