import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { KeyAdminService } from './key-admin.service.js';

/**
 * Runs scheduled rotations and destructions. Every replica runs it: rows are claimed with
 * FOR UPDATE SKIP LOCKED, so each due key is handled once however many replicas look.
 */
@Injectable()
export class KeyScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly admin: KeyAdminService,
    @Inject(SERVICE_CONFIG) private readonly config: KeyManagementConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.tick(),
      this.config.KMS_SCHEDULER_INTERVAL_SECONDS * 1000,
    );
    this.timer.unref();
  }

  /** One pass, never two at once. */
  tick(): Promise<{ destroyed: number; rotated: number }> {
    const pass = this.running.then(() => this.admin.runSchedule());
    this.running = pass.catch((error: unknown) =>
      this.logger.error({ err: error }, 'scheduled key rotation or destruction failed'),
    );
    return pass;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
