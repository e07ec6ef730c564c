import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { purgeExpiredOidcModels } from './postgres-adapter.js';

export interface OidcPurgeSettings {
  /** Time between purges. */
  intervalMs: number;
  /** Rows deleted per statement: short statements keep locks and WAL bursts small. */
  batchSize: number;
  /** Statements per purge at most; the rest waits for the next interval. */
  maxBatches: number;
}

export const DEFAULT_OIDC_PURGE_SETTINGS: OidcPurgeSettings = {
  intervalMs: 60_000,
  batchSize: 1_000,
  maxBatches: 50,
};

/**
 * Deletes expired oidc-provider rows in the background. Reads never return them anyway, so this
 * is housekeeping: it keeps the table and its indexes the size of what is live. Every replica
 * runs it; concurrent purges skip each other's rows instead of waiting.
 */
@Injectable()
export class OidcModelPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  settings: OidcPurgeSettings = { ...DEFAULT_OIDC_PURGE_SETTINGS };
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Purges until a batch comes back short or `maxBatches` ran; returns the rows deleted. */
  async purge(settings: OidcPurgeSettings = this.settings): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < settings.maxBatches; batch++) {
      const deleted = await purgeExpiredOidcModels(this.dataSource, settings.batchSize);
      total += deleted;
      if (deleted < settings.batchSize) break;
    }
    return total;
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.purge()
        .then((deleted) => {
          if (deleted > 0) this.logger.debug({ deleted }, 'expired OIDC rows purged');
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'purging expired OIDC rows failed; retrying'),
        )
        .finally(() => {
          this.tick = undefined;
          this.schedule();
        });
    }, this.settings.intervalMs);
    this.timer.unref();
  }
}
