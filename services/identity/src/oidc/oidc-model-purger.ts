import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { BatchedPurger, type PurgeSettings } from '../housekeeping/batched-purger.js';
import { purgeExpiredOidcModels } from './postgres-adapter.js';

export const DEFAULT_OIDC_PURGE_SETTINGS: PurgeSettings = {
  intervalMs: 60_000,
  batchSize: 1_000,
  maxBatches: 50,
};

/**
 * Deletes expired oidc-provider rows in the background. Reads never return them anyway, so this
 * keeps the table and its indexes the size of what is live.
 */
@Injectable()
export class OidcModelPurger extends BatchedPurger {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({ ...DEFAULT_OIDC_PURGE_SETTINGS }, 'expired OIDC rows', logger);
  }

  protected purgeBatch(batchSize: number): Promise<number> {
    return purgeExpiredOidcModels(this.dataSource, batchSize);
  }
}
