import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '@rampart/platform';
import { BatchedPurger } from '../housekeeping/batched-purger.js';
import { SessionsService } from './sessions.service.js';

/**
 * Deletes the device records of sessions that ended (signed out, timed out, revoked a while ago)
 * in the background. Listing never shows them anyway: this only keeps the table the size of what
 * is live.
 */
@Injectable()
export class SessionRecordsPurger extends BatchedPurger {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(
      { intervalMs: 10 * 60_000, batchSize: 1_000, maxBatches: 20 },
      'records of ended sessions',
      logger,
    );
  }

  protected purgeBatch(batchSize: number): Promise<number> {
    return this.sessions.purgeEndedRecords(batchSize);
  }
}
