import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@rampart/platform';

export interface PurgeSettings {
  /** Time between purges. */
  intervalMs: number;
  /** Rows deleted per statement: short statements keep locks and WAL bursts small. */
  batchSize: number;
  /** Statements per purge at most; the rest waits for the next interval. */
  maxBatches: number;
}

/**
 * Background deletion of rows nothing reads any more, in bounded batches on a timer. Every
 * replica runs it; a subclass's batch skips rows another replica has locked rather than waiting.
 * Housekeeping only: reads must never depend on it having run.
 */
export abstract class BatchedPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = false;

  protected constructor(
    public settings: PurgeSettings,
    private readonly what: string,
    private readonly logger: Logger,
  ) {}

  /** Deletes up to `batchSize` rows; returns how many went. */
  protected abstract purgeBatch(batchSize: number): Promise<number>;

  /** Purges until a batch comes back short or `maxBatches` ran; returns the rows deleted. */
  async purge(settings: PurgeSettings = this.settings): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < settings.maxBatches; batch++) {
      const deleted = await this.purgeBatch(settings.batchSize);
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
          if (deleted > 0) this.logger.debug({ deleted }, `${this.what} purged`);
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, `purging ${this.what} failed; retrying`),
        )
        .finally(() => {
          this.tick = undefined;
          this.schedule();
        });
    }, this.settings.intervalMs);
    // Background work must not keep the process alive.
    this.timer.unref();
  }
}
