import type { JsonWebKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { KeyEvents } from '@rampart/contracts';
import { Outbox, RampartError, SERVICE_CONFIG } from '@rampart/platform';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { RootKey, versionBinding } from '../root-of-trust/root-key.js';
import type { KeyView } from './dto/keys.dto.js';
import { generateMaterial, publicJwk, type Algorithm, type Purpose } from './key-algorithms.js';
import { KeyMaterial } from './key-material.js';
import { keyExists, keyNotFound, versionNotFound } from './keys.errors.js';
import { KeysRepository, type KeyRow, type NewKey } from './keys.repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Bounded work per scheduler pass and transaction; the next pass takes the rest. */
const SCHEDULER_BATCH = 100;

export interface CreateKey {
  name: string;
  keyRing: string;
  purpose: Purpose;
  algorithm: Algorithm;
  rotationPeriodSeconds?: number | undefined;
  destructionWaitingDays?: number | undefined;
  recipientKey?: JsonWebKey | undefined;
  subjectTenant?: string | undefined;
}

/**
 * The life of keys: creation, rotation, settings, version states and destruction. Every change is
 * one transaction that also writes its event to the outbox.
 */
@Injectable()
export class KeyAdminService {
  constructor(
    private readonly keys: KeysRepository,
    private readonly material: KeyMaterial,
    private readonly rootKey: RootKey,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) private readonly config: KeyManagementConfig,
  ) {}

  /** Creates the key with its first version; `false` from `ifAbsent` instead of a conflict. */
  async create(request: CreateKey, caller: string, options: { ifAbsent?: boolean } = {}) {
    // Generated outside the transaction: an RSA key pair takes a while.
    const first = await this.newVersion(request.name, 1, request.algorithm, request.recipientKey);
    const key: NewKey = {
      name: request.name,
      keyRing: request.keyRing,
      purpose: request.purpose,
      algorithm: request.algorithm,
      rotationPeriodSeconds: request.rotationPeriodSeconds ?? null,
      destructionWaitingDays:
        request.destructionWaitingDays ?? this.config.KMS_DESTRUCTION_WAITING_DAYS,
      subjectTenant: request.subjectTenant ?? null,
    };
    const created = await this.keys.transaction(async (transaction) => {
      if (!(await this.keys.create(transaction, key))) return false;
      await this.keys.addVersion(transaction, key.name, 1, first);
      await this.outbox.write(transaction, KeyEvents.created, {
        subject: key.name,
        data: {
          name: key.name,
          keyRing: key.keyRing,
          purpose: key.purpose,
          algorithm: key.algorithm,
          version: 1,
          caller,
        },
      });
      return true;
    });
    if (!created && !options.ifAbsent) throw keyExists(request.name);
    this.material.forget(request.name);
    return created;
  }

  async describe(name: string): Promise<KeyView> {
    const key = await this.keys.find(name);
    if (!key) throw keyNotFound(name);
    return this.view(key);
  }

  async list(keyRing: string, pageToken: string, pageSize: number) {
    const rows = await this.keys.list(keyRing, pageToken, pageSize + 1);
    const page = rows.slice(0, pageSize);
    return {
      keys: await Promise.all(page.map((key) => this.view(key))),
      nextPageToken: rows.length > pageSize ? page.at(-1)?.name : undefined,
    };
  }

  /** A new primary version. WRAP keys take the recipient's new public key. */
  async rotate(name: string, caller: string, recipientKey?: JsonWebKey): Promise<KeyView> {
    const version = await this.keys.transaction(async (transaction) => {
      const key = await this.keys.lock(transaction, name);
      if (!key) throw keyNotFound(name);
      return this.addPrimaryVersion(transaction, key, caller, recipientKey);
    });
    this.material.forget(name, [version]);
    return this.describe(name);
  }

  async update(
    name: string,
    changes: {
      minDecryptionVersion?: number | undefined;
      rotationPeriodSeconds?: number | null | undefined;
      destructionWaitingDays?: number | undefined;
    },
    caller: string,
  ): Promise<KeyView> {
    await this.keys.transaction(async (transaction) => {
      const key = await this.keys.lock(transaction, name);
      if (!key) throw keyNotFound(name);
      if (key.purpose === 'WRAP' && changes.rotationPeriodSeconds) {
        throw new RampartError(
          'failed-precondition',
          `Key ${name} holds a recipient's public key: only its recipient can rotate it.`,
        );
      }
      if (
        changes.minDecryptionVersion !== undefined &&
        changes.minDecryptionVersion > key.primary_version
      ) {
        throw new RampartError(
          'failed-precondition',
          `minDecryptionVersion ${changes.minDecryptionVersion} is above the primary version ${key.primary_version}.`,
        );
      }
      await this.keys.update(transaction, name, changes);
      const updated = (await this.keys.lock(transaction, name))!;
      await this.outbox.write(transaction, KeyEvents.updated, {
        subject: name,
        data: {
          ...this.reference(updated, caller),
          minDecryptionVersion: updated.min_decryption_version,
          rotationPeriodSeconds: updated.rotation_period_seconds,
          destructionWaitingDays: updated.destruction_waiting_days,
        },
      });
    });
    this.material.forget(name);
    return this.describe(name);
  }

  async setVersionState(
    name: string,
    version: number,
    state: 'ENABLED' | 'DISABLED',
    caller: string,
  ): Promise<KeyView> {
    await this.keys.transaction(async (transaction) => {
      const key = await this.keys.lock(transaction, name);
      if (!key) throw keyNotFound(name);
      const row = (await this.keys.versions(name, transaction)).find((v) => v.version === version);
      if (!row) throw versionNotFound(name, version);
      if (row.state !== 'ENABLED' && row.state !== 'DISABLED') {
        throw new RampartError(
          'failed-precondition',
          `Version ${version} of key ${name} is ${row.state.toLowerCase().replaceAll('_', ' ')}; cancel its destruction first.`,
        );
      }
      if (row.state === state) return;
      await this.keys.setState(transaction, name, version, state);
      await this.outbox.write(transaction, KeyEvents.versionStateChanged, {
        subject: name,
        data: { ...this.reference(key, caller), version, state },
      });
    });
    this.material.forget(name, [version]);
    return this.describe(name);
  }

  /**
   * Schedules destruction of `versions` (all live versions when absent) after the key's waiting
   * period. With `immediately` (erasure requests) the material is erased in this transaction.
   */
  async scheduleDestruction(
    name: string,
    request: { versions?: number[] | undefined; immediately?: boolean | undefined },
    caller: string,
  ): Promise<KeyView> {
    const destroyed = await this.keys.transaction(async (transaction) => {
      const key = await this.keys.lock(transaction, name);
      if (!key) throw keyNotFound(name);
      const rows = await this.keys.versions(name, transaction);
      const live = rows.filter((row) => row.state !== 'DESTROYED');
      const chosen = request.versions ?? live.map((row) => row.version);
      for (const version of chosen) {
        const row = rows.find((candidate) => candidate.version === version);
        if (!row) throw versionNotFound(name, version);
        if (
          row.state === 'DESTROYED' ||
          (row.state === 'DESTROY_SCHEDULED' && !request.immediately)
        ) {
          throw new RampartError(
            'failed-precondition',
            `Version ${version} of key ${name} is already ${row.state === 'DESTROYED' ? 'destroyed' : 'scheduled for destruction'}.`,
          );
        }
      }
      if (chosen.length === 0) return [];
      if (request.immediately) {
        await this.keys.destroyNow(transaction, name, chosen);
        for (const version of chosen) {
          await this.outbox.write(transaction, KeyEvents.versionDestroyed, {
            subject: name,
            data: { ...this.reference(key, caller), version, erasure: true },
          });
        }
        return chosen;
      }
      const destroyAt = new Date(Date.now() + key.destruction_waiting_days * DAY_MS);
      await this.keys.scheduleDestruction(transaction, name, chosen, destroyAt);
      await this.outbox.write(transaction, KeyEvents.destructionScheduled, {
        subject: name,
        data: {
          ...this.reference(key, caller),
          versions: chosen,
          destroyAt: destroyAt.toISOString(),
        },
      });
      return chosen;
    });
    this.material.forget(name, destroyed);
    return this.describe(name);
  }

  async cancelDestruction(
    name: string,
    request: { versions?: number[] | undefined },
    caller: string,
  ): Promise<KeyView> {
    const restored = await this.keys.transaction(async (transaction) => {
      const key = await this.keys.lock(transaction, name);
      if (!key) throw keyNotFound(name);
      const rows = await this.keys.versions(name, transaction);
      const scheduled = rows.filter((row) => row.state === 'DESTROY_SCHEDULED');
      const chosen = request.versions ?? scheduled.map((row) => row.version);
      for (const version of chosen) {
        if (!scheduled.some((row) => row.version === version)) {
          throw new RampartError(
            'failed-precondition',
            `Version ${version} of key ${name} is not scheduled for destruction.`,
          );
        }
      }
      if (chosen.length === 0) return [];
      await this.keys.cancelDestruction(transaction, name, chosen);
      await this.outbox.write(transaction, KeyEvents.destructionCancelled, {
        subject: name,
        data: { ...this.reference(key, caller), versions: chosen },
      });
      return chosen;
    });
    this.material.forget(name, restored);
    return this.describe(name);
  }

  /** One scheduler pass: destroys versions whose waiting period ended, rotates keys that are due. */
  async runSchedule(): Promise<{ destroyed: number; rotated: number }> {
    const destroyed = await this.keys.transaction(async (transaction) => {
      const rows = await this.keys.destroyDue(transaction, SCHEDULER_BATCH);
      for (const row of rows) {
        // Read, not locked: the version rows are locked already, and other changes lock the key
        // row first; taking it here would invert that order and risk a deadlock.
        const key = (await this.keys.find(row.key_name, transaction))!;
        await this.outbox.write(transaction, KeyEvents.versionDestroyed, {
          subject: row.key_name,
          data: { ...this.reference(key, 'scheduler'), version: row.version, erasure: false },
        });
      }
      return rows;
    });
    for (const row of destroyed) this.material.forget(row.key_name, [row.version]);

    const due = await this.keys.transaction((transaction) =>
      this.keys.dueRotations(transaction, SCHEDULER_BATCH),
    );
    let rotated = 0;
    for (const candidate of due) {
      // WRAP keys cannot rotate on their own: the recipient holds the private half.
      if (candidate.purpose === 'WRAP') continue;
      const version = await this.keys.transaction(async (transaction) => {
        const key = await this.keys.lock(transaction, candidate.name);
        if (!key?.next_rotation_at || key.next_rotation_at.getTime() > Date.now()) return undefined;
        return this.addPrimaryVersion(transaction, key, 'scheduler');
      });
      if (version !== undefined) {
        rotated += 1;
        this.material.forget(candidate.name, [version]);
      }
    }
    return { destroyed: destroyed.length, rotated };
  }

  private async addPrimaryVersion(
    transaction: EntityManager,
    key: KeyRow,
    caller: string,
    recipientKey?: JsonWebKey,
  ): Promise<number> {
    if (key.purpose === 'WRAP' && !recipientKey) {
      throw new RampartError(
        'failed-precondition',
        `Key ${key.name} holds a recipient's public key: rotate it with the new publicKey.`,
      );
    }
    const version = key.primary_version + 1;
    await this.keys.addVersion(
      transaction,
      key.name,
      version,
      await this.newVersion(key.name, version, key.algorithm, recipientKey),
    );
    await this.keys.setPrimary(transaction, key.name, version);
    await this.outbox.write(transaction, KeyEvents.rotated, {
      subject: key.name,
      data: { ...this.reference(key, caller), version },
    });
    return version;
  }

  private async newVersion(
    name: string,
    version: number,
    algorithm: Algorithm,
    recipientKey: JsonWebKey | undefined,
  ) {
    const { secret, publicKey } = await generateMaterial(algorithm, recipientKey);
    try {
      return {
        wrapped: secret ? await this.rootKey.wrap(secret, versionBinding(name, version)) : null,
        wrappedBy: secret ? this.rootKey.id : null,
        publicKey,
      };
    } finally {
      secret?.fill(0);
    }
  }

  private reference(key: KeyRow, caller: string) {
    return { name: key.name, keyRing: key.key_ring, purpose: key.purpose, caller };
  }

  private async view(key: KeyRow): Promise<KeyView> {
    const versions = await this.keys.versions(key.name);
    return {
      name: key.name,
      keyRing: key.key_ring,
      purpose: key.purpose,
      algorithm: key.algorithm,
      primaryVersion: key.primary_version,
      minDecryptionVersion: key.min_decryption_version,
      rotationPeriodSeconds: key.rotation_period_seconds,
      nextRotationAt: key.next_rotation_at?.toISOString() ?? null,
      destructionWaitingDays: key.destruction_waiting_days,
      versions: versions.map((version) => ({
        version: version.version,
        state: version.state,
        createdAt: version.created_at.toISOString(),
        ...(version.destroy_at ? { destroyAt: version.destroy_at.toISOString() } : {}),
        ...(version.destroyed_at ? { destroyedAt: version.destroyed_at.toISOString() } : {}),
        ...(version.public_key && version.state !== 'DESTROYED'
          ? {
              publicKey: publicJwk(
                key.algorithm,
                version.public_key,
                `${key.name}/${version.version}`,
              ),
            }
          : {}),
      })),
    };
  }
}
