import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AuditCheckpointEvents } from '@rampart/contracts';
import {
  KmsClient,
  LOGGER,
  Outbox,
  SERVICE_CONFIG,
  WorkloadSigner,
  type Logger,
} from '@rampart/platform';
import { DataSource } from 'typeorm';
import type { AuditConfig } from '../config/audit.config.js';
import { verifierKey, type NoteSigner } from '../transparency/checkpoint.js';
import { signCheckpointIfDue, type CheckpointPolicy } from './checkpoint-store.js';
import { logOrigin } from './checkpoint.config.js';
import { kmsNoteSigner } from './kms-note-signer.js';
import { RepeatingTask } from './repeating-task.js';

/** How often each replica looks whether a checkpoint is due. */
const TICK_MS = 1_000;

/**
 * Signs checkpoints in the background: every second each replica asks `signCheckpointIfDue`,
 * which lets one of them sign when AUDIT_CHECKPOINT_RECORDS new records arrived or
 * AUDIT_CHECKPOINT_SECONDS passed with growth. The KMS key is ensured on the first tick that
 * reaches key-management (a KMS still starting only delays the first checkpoint).
 */
@Injectable()
export class Checkpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly policy: CheckpointPolicy;
  private kms: KmsClient | undefined;
  private signer: { note: NoteSigner; verifierKey: string } | undefined;
  private task: RepeatingTask | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly workloadSigner: WorkloadSigner,
  ) {
    this.policy = {
      origin: logOrigin(config),
      everyRecords: config.AUDIT_CHECKPOINT_RECORDS,
      everySeconds: config.AUDIT_CHECKPOINT_SECONDS,
    };
  }

  /** The log's verifier key, once the signing key was read from key-management. */
  get verifierKey(): string | undefined {
    return this.signer?.verifierKey;
  }

  onApplicationBootstrap(): void {
    if (!this.config.AUDIT_KMS_URL) {
      this.logger.warn('AUDIT_KMS_URL is unset: audit checkpoints are not signed');
      return;
    }
    this.kms = new KmsClient({ baseUrl: this.config.AUDIT_KMS_URL, signer: this.workloadSigner });
    this.task = new RepeatingTask(() => this.tick(), TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task?.stop();
    await this.kms?.close();
  }

  /** One round: ensure the signer, then sign if due. Failures are logged and retried next tick. */
  async tick(): Promise<void> {
    try {
      if (!this.signer) {
        const note = await kmsNoteSigner(
          this.kms!,
          this.config.AUDIT_CHECKPOINT_KEY,
          this.policy.origin,
        );
        this.signer = { note, verifierKey: verifierKey(note.name, note.publicKey) };
      }
      const { note, verifierKey: key } = this.signer;
      const signed = await signCheckpointIfDue(this.dataSource, note, this.policy, {
        published: (transaction, checkpoint) =>
          this.outbox
            .write(transaction, AuditCheckpointEvents.signed, {
              subject: String(checkpoint.size),
              data: {
                size: checkpoint.size,
                rootHash: checkpoint.root.toString('base64'),
                time: checkpoint.time.toISOString(),
                note: checkpoint.note,
                verifierKey: key,
              },
            })
            .then(() => undefined),
      });
      if (signed) this.logger.info({ size: signed.size }, 'audit checkpoint signed');
    } catch (error) {
      this.logger.warn({ err: error }, 'audit checkpoint not signed this round');
    }
  }
}
