import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, Outbox, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { Checkpointer } from '../checkpoints/checkpointer.js';
import { RepeatingTask } from '../checkpoints/repeating-task.js';
import type { AuditConfig } from '../config/audit.config.js';
import { runRetention } from './archiver.js';
import { retentionPolicy } from './retention.config.js';

/**
 * Runs retention every AUDIT_RETENTION_INTERVAL_SECONDS when AUDIT_ARCHIVE_DIR is set: archive,
 * then prune (`runRetention`). Archives are verified with the log's checkpoint key once the
 * checkpointer has read it, by their roots alone before. Failures are logged and retried next
 * round; nothing is pruned that a verified, recorded archive does not hold.
 */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private task: RepeatingTask | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly checkpointer: Checkpointer,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.AUDIT_ARCHIVE_DIR) {
      this.logger.warn('AUDIT_ARCHIVE_DIR is unset: audit records are kept for ever');
      return;
    }
    this.task = new RepeatingTask(
      () => this.tick(),
      this.config.AUDIT_RETENTION_INTERVAL_SECONDS * 1000,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task?.stop();
  }

  async tick(): Promise<void> {
    try {
      const run = await runRetention(this.dataSource, this.outbox, {
        directory: this.config.AUDIT_ARCHIVE_DIR!,
        policy: retentionPolicy(this.config, new Date()),
        maxRecords: this.config.AUDIT_ARCHIVE_MAX_RECORDS,
        verifierKey: this.checkpointer.verifierKey,
      });
      if (run?.archived) {
        this.logger.info({ archive: run.archived.id }, 'audit records archived');
      }
      const total = run?.pruned.reduce((sum, entry) => sum + entry.pruned, 0) ?? 0;
      if (total > 0) this.logger.info({ pruned: total }, 'audit records pruned');
    } catch (error) {
      this.logger.warn({ err: error }, 'audit retention did not run this round');
    }
  }
}
