import { Controller, Get, Query } from '@nestjs/common';
import { AllowAccessTokens, CurrentPrincipal, Outbox, type Principal } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { PersonalData } from '../personal-data/personal-data.service.js';
import { AUDIT_READ_SCOPE } from '../verify/verify.controller.js';
import { queryAuditRecords, type FilterPseudonyms } from './audit-query.repository.js';
import { recordAuditedRead } from './audited-read.js';
import { encodeCursor, parseEventsQuery, type EventsPage } from './events-query.js';

/**
 * `/audit/v1/events`: the log, filtered and paged in sequence order. Every query is audited: the
 * page is read and the `rampart.audit.query.performed` event written in one transaction, so no
 * answer leaves without its event (which the ingest then appends to the chain).
 */
@Controller('audit/v1/events')
@AllowAccessTokens(AUDIT_READ_SCOPE)
export class EventsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly personalData: PersonalData,
  ) {}

  @Get()
  async list(@Query() raw: unknown, @CurrentPrincipal() caller: Principal): Promise<EventsPage> {
    const query = parseEventsQuery(raw);
    const { after, limit, ...filters } = query;
    const pseudonyms: FilterPseudonyms = {
      ...(query.actor === undefined
        ? {}
        : { actor: await this.personalData.pseudonymOf(query.actor) }),
      ...(query.subject === undefined
        ? {}
        : { subject: await this.personalData.pseudonymOf(query.subject) }),
    };
    const page = await this.dataSource.transaction(async (transaction) => {
      // One more than asked: whether a next page exists, without a second query.
      const rows = await queryAuditRecords(transaction, query, limit + 1, pseudonyms);
      const events = rows.slice(0, limit);
      await recordAuditedRead(this.outbox, transaction, caller, {
        operation: 'query',
        // The log of reads must not name the people looked for: their pseudonyms stand in.
        filters: {
          ...filters,
          ...(pseudonyms.actor === undefined ? {} : { actor: pseudonyms.actor }),
          ...(pseudonyms.subject === undefined ? {} : { subject: pseudonyms.subject }),
        },
        continued: after !== undefined,
        limit,
        returned: events.length,
      });
      const last = events.at(-1);
      return {
        events,
        nextCursor: rows.length > limit && last ? encodeCursor(last.sequence) : null,
      };
    });
    // Opened outside the transaction: KMS calls must not hold a database connection.
    const details = await this.personalData.details(page.events.map((event) => event.record));
    return {
      events: page.events.map((event, index) => {
        const opened = details[index];
        return opened === undefined ? event : { ...event, details: opened };
      }),
      nextCursor: page.nextCursor,
    };
  }
}
