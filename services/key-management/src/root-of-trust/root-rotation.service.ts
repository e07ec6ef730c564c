import { setTimeout as sleep } from 'node:timers/promises';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { RootKeyring } from './root-keyring.js';
import { RootRotationRepository, type TableProgress } from './root-rotation.repository.js';
import { WrappedTables, type WrappedTable } from './wrapped-tables.js';

export interface RootProgress {
  rootKeyId: string;
  /** Roots this replica still unwraps with, besides the current one. */
  previousRootKeyIds: string[];
  rewrapped: number;
  remaining: number;
  /** Roots that remaining values name but this replica lacks: rotation cannot finish without them. */
  missingRootKeyIds: string[];
  tables: TableProgress[];
}

/** How often a replica that is not rotating checks whether the leader finished or vanished. */
const FOLLOWER_POLL_MS = 5_000;
/** Retry delay after a failed pass or after rows that could not be rewrapped. */
const RETRY_MS = 30_000;

/**
 * Root key rotation: every wrapped value not yet wrapped by the current root is unwrapped with
 * the root recorded beside it and wrapped again with the current one, in small batches that each
 * commit on their own, so a crash loses at most one batch of work and the next start resumes.
 * One replica rotates at a time (an advisory lock); the others wait and take over if it dies.
 * With nothing to rewrap it does one count per table at start and stops.
 */
@Injectable()
export class RootRotation implements OnApplicationBootstrap, OnApplicationShutdown {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly stopped = new AbortController();
  private readonly lock: string;

  constructor(
    private readonly keyring: RootKeyring,
    private readonly tables: WrappedTables,
    private readonly repository: RootRotationRepository,
    @Inject(SERVICE_CONFIG) private readonly config: KeyManagementConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.lock = `rampart.kms.root-rotation.${config.DATABASE_SCHEMA}`;
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.stopped.abort();
    await this.loop;
    // Closed here, after the last batch: the rotation is the keyring's last user to stop.
    await this.keyring.close();
  }

  async progress(): Promise<RootProgress> {
    const current = this.keyring.id;
    const known = new Set(this.keyring.ids);
    const missing = new Set<string>();
    const tables = await Promise.all(
      this.tables.list().map(async (table): Promise<TableProgress> => {
        const counts = await this.repository.countByRoot(table);
        let remaining = 0;
        for (const [root, count] of counts) {
          if (root === current) continue;
          remaining += count;
          if (root !== null && !known.has(root)) missing.add(root);
        }
        return { table: table.table, rewrapped: counts.get(current) ?? 0, remaining };
      }),
    );
    return {
      rootKeyId: current,
      previousRootKeyIds: this.keyring.ids.filter((id) => id !== current),
      rewrapped: tables.reduce((sum, table) => sum + table.rewrapped, 0),
      remaining: tables.reduce((sum, table) => sum + table.remaining, 0),
      missingRootKeyIds: [...missing].sort(),
      tables,
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait = FOLLOWER_POLL_MS;
      try {
        if ((await this.progress()).remaining === 0) return;
        const outcome = await this.rotateIfLeader();
        if (outcome === 'complete') return;
        if (outcome === 'incomplete') wait = RETRY_MS;
      } catch (error) {
        this.logger.error({ err: error }, 'root key rotation failed; retrying');
        wait = RETRY_MS;
      }
      await this.pause(wait);
    }
  }

  private async rotateIfLeader(): Promise<'complete' | 'incomplete' | 'follower'> {
    const runner = this.repository.runner();
    await runner.connect();
    try {
      if (!(await this.repository.tryLead(runner, this.lock))) return 'follower';
      try {
        const before = await this.progress();
        this.logger.info(
          { rootKeyId: before.rootKeyId, rewrapped: before.rewrapped, remaining: before.remaining },
          'root key rotation started',
        );
        if (before.missingRootKeyIds.length > 0) {
          // Once per pass, not once per row: those rows are left out until the roots are configured.
          this.logger.error(
            { missingRootKeyIds: before.missingRootKeyIds },
            'values are wrapped by root keys this service does not have; configure them as previous root keys',
          );
        }
        let unreadable = 0;
        for (const [index, table] of this.tables.list().entries()) {
          unreadable += await this.rewrapTable(runner, table, before.tables[index]!);
        }
        if (!this.running) return 'incomplete';
        const after = await this.progress();
        if (after.remaining === 0) {
          this.logger.info(
            { rootKeyId: after.rootKeyId, rewrapped: after.rewrapped },
            'root key rotation complete',
          );
          return 'complete';
        }
        this.logger.warn(
          { rootKeyId: after.rootKeyId, remaining: after.remaining, unreadable },
          'root key rotation left values behind; retrying later',
        );
        return 'incomplete';
      } finally {
        await this.repository.resign(runner, this.lock);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * One pass over a table in key order; returns how many values no configured root unwrapped.
   * `progress` (counted once before the pass) is kept current without counting again.
   */
  private async rewrapTable(
    runner: QueryRunner,
    table: WrappedTable,
    progress: TableProgress,
  ): Promise<number> {
    const batchSize = this.config.KMS_ROOT_ROTATION_BATCH_SIZE;
    let after: unknown[] | undefined;
    let unreadable = 0;
    while (this.running) {
      await runner.startTransaction();
      let count: number;
      let stored = 0;
      try {
        const rows = await this.repository.lockBatch(
          runner.manager,
          table,
          this.keyring.id,
          this.keyring.ids,
          after,
          batchSize,
        );
        for (const row of rows) {
          const binding = table.binding(row.key);
          let material: Buffer;
          try {
            material = await this.keyring.unwrapFrom(row.wrappedBy, row.wrapped, binding);
          } catch (error) {
            // Left as it is and counted: one bad value must not hold every other one back.
            unreadable += 1;
            this.logger.error({ err: error, table: table.table, row: row.key }, 'cannot rewrap');
            continue;
          }
          try {
            const wrapped = await this.keyring.wrap(material, binding);
            await this.repository.store(runner.manager, table, row, wrapped, this.keyring.id);
            stored += 1;
          } finally {
            material.fill(0);
          }
        }
        await runner.commitTransaction();
        count = rows.length;
        const last = rows.at(-1);
        if (last) after = table.keyColumns.map((column) => last.key[column]);
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
      if (count === 0) break;
      progress.rewrapped += stored;
      progress.remaining = Math.max(0, progress.remaining - stored);
      this.logger.info(
        { table: table.table, rewrapped: progress.rewrapped, remaining: progress.remaining },
        'root key rotation progress',
      );
      if (count < batchSize) break;
      if (this.config.KMS_ROOT_ROTATION_BATCH_DELAY_MS > 0) {
        await this.pause(this.config.KMS_ROOT_ROTATION_BATCH_DELAY_MS);
      }
    }
    return unreadable;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopped.signal }).catch(() => undefined);
  }
}
