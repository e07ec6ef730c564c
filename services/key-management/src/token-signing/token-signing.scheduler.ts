import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@rampart/platform';
import { TokenSigningService } from './token-signing.service.js';

/**
 * Keeps the token-signing keys on schedule. At start every replica waits for the lock and makes
 * sure keys exist, so the JWK Set is never empty once the service listens. Then each replica
 * checks every interval; the one that gets the lock does the work and the others skip that tick,
 * so a rotation happens once however many replicas run.
 */
@Injectable()
export class TokenSigningScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly signing: TokenSigningService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.signing.maintain(new Date(), { wait: true });
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
      this.tick = this.signing
        .maintain(new Date(), { wait: false })
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'token-signing key maintenance failed; retrying'),
        )
        .finally(() => {
          this.tick = undefined;
          this.schedule();
        });
    }, this.signing.settings.checkIntervalMs);
    this.timer.unref();
  }
}
