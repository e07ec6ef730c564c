import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@rampart/platform';
import { SessionsService } from './sessions.service.js';

const INTERVAL_MS = 10 * 60_000;
const BATCH_SIZE = 1_000;
const MAX_BATCHES = 20;

/**
 * Deletes the device records of sessions that ended (signed out, timed out, revoked a while ago)
 * in the background. Listing never shows them anyway: this only keeps the table the size of what
 * is live. Replicas running it at once skip each other's rows.
 */
@Injectable()
export class SessionRecordsPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sessions: SessionsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async purge(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const deleted = await this.sessions.purgeEndedRecords(BATCH_SIZE);
      total += deleted;
      if (deleted < BATCH_SIZE) break;
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
          if (deleted > 0) this.logger.debug({ deleted }, 'records of ended sessions purged');
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'purging records of ended sessions failed; retrying'),
        )
        .finally(() => {
          this.tick = undefined;
          this.schedule();
        });
    }, INTERVAL_MS);
    this.timer.unref();
  }
}
