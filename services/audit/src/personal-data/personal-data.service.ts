import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { CloudEventEnvelope } from '@rampart/contracts';
import {
  EnvelopeEncryption,
  KmsClient,
  KmsError,
  LOGGER,
  RampartError,
  RetryBatchLaterError,
  SERVICE_CONFIG,
  WorkloadSigner,
  type Logger,
} from '@rampart/platform';
import { DataSource } from 'typeorm';
import type { AuditRecord } from '../chain/audit-record.js';
import type { AuditConfig } from '../config/audit.config.js';
import { loadPseudonymKey } from './pseudonym-key-store.js';
import type { Pseudonyms } from './pseudonyms.js';
import { detailsOf, protectRecord, type RecordDetails } from './record-protection.js';

/** Bound to every sealed record: these bytes are audit details, nothing else opens them. */
const DETAILS_CONTEXT = { purpose: 'rampart.audit.record-details' };

/**
 * One data key per person is cached for encryption (the category's age and message bounds still
 * apply): at ingest rates, the people active within a few minutes, each costing one KMS call.
 */
const MAX_SUBJECT_KEYS = 10_000;

/**
 * The instance of each running audit service, by its data source: the ingest consumer is defined
 * before Nest starts and finds it through its transaction.
 */
const running = new WeakMap<DataSource, PersonalData>();

/** The personal-data protection of the service whose data source this is, once it started. */
export function personalDataOf(dataSource: DataSource): PersonalData | undefined {
  return running.get(dataSource);
}

const isErased = (error: unknown) =>
  error instanceof RampartError && error.code === 'key-destroyed';

/**
 * Pseudonyms and per-person encryption of audit records (ADR 0024, docs/architecture/audit.md
 * "Personal data"). The pseudonym key is unwrapped once through key-management and held here; the
 * details of a person's events are sealed under that person's key (platform envelope encryption,
 * category `personal`), so erasing the person at key-management erases the details while the chain
 * still verifies. Without `AUDIT_KMS_URL` (development only) records are stored unprotected.
 */
@Injectable()
export class PersonalData implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly kms: KmsClient | undefined;
  private readonly sealing: EnvelopeEncryption | undefined;
  private pseudonyms: Promise<Pseudonyms> | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    workloadSigner: WorkloadSigner,
  ) {
    if (config.AUDIT_KMS_URL) {
      this.kms = new KmsClient({ baseUrl: config.AUDIT_KMS_URL, signer: workloadSigner });
      this.sealing = new EnvelopeEncryption({ kms: this.kms, maxEncryptionKeys: MAX_SUBJECT_KEYS });
    }
  }

  /** Whether records are protected: false only in development without a KMS. */
  get enabled(): boolean {
    return this.kms !== undefined;
  }

  onModuleInit(): void {
    running.set(this.dataSource, this);
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) {
      this.logger.warn(
        'AUDIT_KMS_URL is unset: audit records keep identifiers and personal details in clear (development only)',
      );
      return;
    }
    // Warmed now so the first events do not wait; a KMS still starting is retried on first use.
    this.pseudonymKey().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'audit pseudonym key not loaded yet; retried on first use'),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    running.delete(this.dataSource);
    this.sealing?.close();
    await this.kms?.close();
  }

  /**
   * The record as it is stored. A KMS that cannot answer leaves the batch to be delivered again
   * (`RetryBatchLaterError`): the event is neither lost nor stored unprotected.
   */
  async protect(record: AuditRecord, event: CloudEventEnvelope): Promise<AuditRecord> {
    const sealing = this.sealing;
    if (!sealing) return record;
    try {
      return await protectRecord(
        record,
        event,
        await this.pseudonymKey(),
        async (subject, details) => {
          try {
            return await sealing.encrypt(details, {
              category: 'personal',
              subject,
              context: DETAILS_CONTEXT,
            });
          } catch (error) {
            if (isErased(error)) return undefined;
            throw error;
          }
        },
      );
    } catch (error) {
      if (error instanceof KmsError) {
        throw new RetryBatchLaterError(
          `key-management could not protect an audit record (${error.code}); the batch is retried`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * The value a query compares with stored identifiers: the pseudonym of `identifier` in this
   * installation's tenant. Undefined without a KMS (identifiers are stored in clear then).
   */
  async pseudonymOf(identifier: string): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    return (await this.pseudonymKey()).of(this.config.RAMPART_TENANT, identifier);
  }

  /**
   * The details of each record, opened for an `audit:read` caller: `{ erased: true }` for a person
   * whose key is destroyed, undefined for records without sealed details. The data keys unwrapped
   * for one call are dropped with it, so an erasure shows in the very next answer.
   */
  async details(
    records: readonly Record<string, unknown>[],
  ): Promise<(RecordDetails | undefined)[]> {
    if (!this.kms) return records.map(() => undefined);
    const opening = new EnvelopeEncryption({ kms: this.kms });
    try {
      return await Promise.all(
        records.map((record) =>
          detailsOf(record, async (envelope) => {
            try {
              return await opening.decrypt(envelope, DETAILS_CONTEXT);
            } catch (error) {
              if (isErased(error)) return undefined;
              throw error;
            }
          }),
        ),
      );
    } finally {
      opening.close();
    }
  }

  /** Loaded once; a failed load is forgotten so the next caller tries again. */
  private pseudonymKey(): Promise<Pseudonyms> {
    this.pseudonyms ??= loadPseudonymKey(
      this.kms!,
      this.dataSource,
      this.config.AUDIT_PSEUDONYM_KEY,
    ).catch((error: unknown) => {
      this.pseudonyms = undefined;
      throw error;
    });
    return this.pseudonyms;
  }
}
