import { Inject, Injectable } from '@nestjs/common';
import { CompactEncrypt, type JWK } from 'jose';
import {
  PUBLIC_JWK_MEMBERS,
  TokenSigningKeyEvents,
  type EventDefinition,
  type JwkSet,
  type TokenSigningAlgorithm,
  type TokenSigningKeysResponse,
} from '@rampart/contracts';
import {
  LOGGER,
  loadWorkloadEncryptionKey,
  Outbox,
  SERVICE_CONFIG,
  WORKLOAD_CONTENT_ENCRYPTION,
  WORKLOAD_ENCRYPTION_ALGORITHM,
  type Logger,
  type WorkloadEncryptionKey,
} from '@rampart/platform';
import type { EntityManager } from 'typeorm';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { RootKey } from '../root-of-trust/root-key.js';
import type { TokenSigningKeysView } from './dto/token-signing.dto.js';
import { generateSigningKey, tokenSigningKeyBinding } from './signing-key-material.js';
import type { TokenSigningSettings } from './token-signing.config.js';
import { noEncryptionKey } from './token-signing.errors.js';
import {
  TokenSigningRepository,
  type TokenSigningKeyRow,
  type WrappedTokenSigningKeyRow,
} from './token-signing.repository.js';

type Trigger = 'bootstrap' | 'schedule' | 'on-demand';

interface Step {
  definition: EventDefinition;
  row: { kid: string; algorithm: TokenSigningAlgorithm };
  state: TokenSigningKeyRow['state'];
}

/** JWKS order: the signing key first, for relying parties that (wrongly) take the first key. */
const PUBLICATION_ORDER = { CURRENT: 0, NEXT: 1, PREVIOUS: 2, RETIRED: 3 } as const;

/** A public endpoint: repeated reads within this reuse one query. Local changes clear it. */
const JWKS_MEMO_MS = 1_000;

/**
 * Identity's token-signing keys: NEXT (published, waiting) -> CURRENT (signing) -> PREVIOUS
 * (published for the grace period) -> RETIRED (private key erased). Every change happens under one
 * advisory lock and writes its event through the outbox in the same transaction.
 */
@Injectable()
export class TokenSigningService {
  readonly settings: TokenSigningSettings;
  private readonly recipients = new Map<string, WorkloadEncryptionKey>();
  private jwksMemo: { value: Promise<JwkSet>; until: number } | undefined;

  constructor(
    private readonly keys: TokenSigningRepository,
    private readonly outbox: Outbox,
    private readonly root: RootKey,
    @Inject(SERVICE_CONFIG) private readonly config: KeyManagementConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.settings = {
      algorithm: config.KMS_TOKEN_SIGNING_ALGORITHM,
      rotationPeriodMs: config.KMS_TOKEN_SIGNING_ROTATION_DAYS * 24 * 60 * 60 * 1_000,
      gracePeriodMs: config.KMS_TOKEN_SIGNING_GRACE_HOURS * 60 * 60 * 1_000,
      checkIntervalMs: config.KMS_SCHEDULER_INTERVAL_SECONDS * 1_000,
    };
  }

  /**
   * Brings the keys up to date at `now`: the first keys on a fresh database, the scheduled
   * rotation once the CURRENT key has signed for a rotation period, and retirement of PREVIOUS
   * keys past their grace period. Returns false, doing nothing, when `wait` is false and another
   * replica holds the lock (it is doing this work).
   */
  async maintain(now: Date, options: { wait: boolean }): Promise<boolean> {
    const outcome = await this.keys.transaction(async (transaction) => {
      if (!(await this.keys.lock(transaction, this.config.DATABASE_SCHEMA, options.wait)))
        return 'skipped';
      const steps: Step[] = [];
      const live = await this.keys.live(transaction);
      const current = live.find((key) => key.state === 'CURRENT');
      const next = live.find((key) => key.state === 'NEXT');
      // A fresh database has no CURRENT key: the first one signs at once, with nothing published
      // before it. Afterwards the schedule rotates once the CURRENT key has signed long enough.
      if (
        !current ||
        current.activated_at!.getTime() + this.settings.rotationPeriodMs <= now.getTime()
      ) {
        steps.push(
          ...(await this.rotateLocked(
            transaction,
            { current, next },
            this.settings.algorithm,
            now,
          )),
        );
      } else if (!next) {
        steps.push(await this.create(transaction, 'NEXT', this.settings.algorithm, now));
      }
      for (const key of live) {
        if (
          key.state === 'PREVIOUS' &&
          key.deactivated_at!.getTime() + this.settings.gracePeriodMs <= now.getTime()
        ) {
          await this.keys.transition(transaction, key.kid, 'PREVIOUS', 'RETIRED', now);
          steps.push({ definition: TokenSigningKeyEvents.retired, row: key, state: 'RETIRED' });
        }
      }
      await this.record(transaction, steps, current ? 'schedule' : 'bootstrap');
      return steps.length > 0 ? 'changed' : 'unchanged';
    });
    if (outcome === 'changed') this.jwksMemo = undefined;
    return outcome !== 'skipped';
  }

  /**
   * Rotates now, whatever the schedule: NEXT becomes CURRENT, CURRENT becomes PREVIOUS, and a new
   * NEXT (of `algorithm`, or the configured one) is published. The promoted key has been published
   * since the last rotation; right after another on-demand rotation, relying parties that cached
   * the JWK Set meanwhile find it by refetching on the unknown kid.
   *
   * `retireCurrent` is for a compromised key: it skips the grace period and leaves the JWK Set at
   * once, so tokens it signed stop verifying as soon as relying parties refresh their copy.
   */
  async rotate(
    caller: string,
    now: Date,
    options: { algorithm?: TokenSigningAlgorithm; retireCurrent?: boolean } = {},
  ): Promise<TokenSigningKeysView> {
    await this.keys.transaction(async (transaction) => {
      await this.keys.lock(transaction, this.config.DATABASE_SCHEMA, true);
      const live = await this.keys.live(transaction);
      const steps = await this.rotateLocked(
        transaction,
        {
          current: live.find((key) => key.state === 'CURRENT'),
          next: live.find((key) => key.state === 'NEXT'),
        },
        options.algorithm ?? this.settings.algorithm,
        now,
        options.retireCurrent ?? false,
      );
      await this.record(transaction, steps, 'on-demand', caller);
    });
    this.jwksMemo = undefined;
    this.logger.info(
      { caller, retireCurrent: options.retireCurrent ?? false },
      'token-signing keys rotated on demand',
    );
    return this.describe();
  }

  /** Every key still published, without material. */
  async describe(): Promise<TokenSigningKeysView> {
    const live = await this.keys.live();
    return {
      keys: live.map((key) => ({
        kid: key.kid,
        algorithm: key.algorithm,
        state: key.state,
        createdAt: key.created_at.toISOString(),
        ...(key.activated_at ? { activatedAt: key.activated_at.toISOString() } : {}),
        ...(key.deactivated_at ? { deactivatedAt: key.deactivated_at.toISOString() } : {}),
      })),
    };
  }

  /** The public JWK Set: NEXT, CURRENT and PREVIOUS keys. */
  jwks(): Promise<JwkSet> {
    const now = Date.now();
    if (this.jwksMemo && this.jwksMemo.until > now) return this.jwksMemo.value;
    const value = this.keys.live().then((live) => ({ keys: this.published(live).map(publicJwk) }));
    this.jwksMemo = { value, until: now + JWKS_MEMO_MS };
    value.catch(() => (this.jwksMemo = undefined));
    return value;
  }

  /**
   * The keys for `caller` (identity): every published key, and the private JWK of CURRENT and NEXT
   * as a JWE that only the caller's own encryption key opens. The unwrapped private key exists
   * here only for the moment it is encrypted.
   */
  async deliver(caller: string): Promise<TokenSigningKeysResponse> {
    const recipient = await this.recipient(caller);
    const rows = this.published(await this.keys.forDelivery(['CURRENT', 'NEXT']));
    const keys = await Promise.all(
      rows.map(async (row) => ({
        kid: row.kid,
        algorithm: row.algorithm,
        state: row.state as 'NEXT' | 'CURRENT' | 'PREVIOUS',
        publicJwk: publicJwk(row),
        ...(row.wrapped_private_jwk
          ? { privateJwk: await this.encryptFor(recipient, row, row.wrapped_private_jwk) }
          : {}),
        createdAt: row.created_at.toISOString(),
        ...(row.activated_at ? { activatedAt: row.activated_at.toISOString() } : {}),
      })),
    );
    this.logger.info(
      { caller, kids: keys.filter((key) => key.privateJwk).map((key) => key.kid) },
      'token-signing keys delivered',
    );
    return { keys, rotationPeriodSeconds: Math.floor(this.settings.rotationPeriodMs / 1_000) };
  }

  private published<T extends TokenSigningKeyRow>(rows: T[]): T[] {
    return rows
      .filter((row) => row.state !== 'RETIRED')
      .sort((a, b) => PUBLICATION_ORDER[a.state] - PUBLICATION_ORDER[b.state]);
  }

  /**
   * CURRENT -> PREVIOUS (or RETIRED), NEXT -> CURRENT (or, retiring a compromised key, NEXT ->
   * RETIRED and a fresh CURRENT), a new NEXT; in this order because of the one-CURRENT index. Without a CURRENT key (a fresh database) it makes the first keys.
   */
  private async rotateLocked(
    transaction: EntityManager,
    { current, next }: { current?: TokenSigningKeyRow; next?: TokenSigningKeyRow },
    algorithm: TokenSigningAlgorithm,
    now: Date,
    retireCurrent = false,
  ): Promise<Step[]> {
    const steps: Step[] = [];
    if (current) {
      const state = retireCurrent ? 'RETIRED' : 'PREVIOUS';
      await this.keys.transition(transaction, current.kid, 'CURRENT', state, now);
      steps.push({
        definition: retireCurrent
          ? TokenSigningKeyEvents.retired
          : TokenSigningKeyEvents.deactivated,
        row: current,
        state,
      });
    }
    if (next && retireCurrent) {
      // NEXT was delivered to identity together with the compromised CURRENT: whatever exposed
      // one exposed the other, so it is retired too and fresh keys take both places.
      await this.keys.transition(transaction, next.kid, 'NEXT', 'RETIRED', now);
      steps.push({ definition: TokenSigningKeyEvents.retired, row: next, state: 'RETIRED' });
      steps.push(await this.create(transaction, 'CURRENT', algorithm, now));
    } else if (next) {
      await this.keys.transition(transaction, next.kid, 'NEXT', 'CURRENT', now);
      steps.push({ definition: TokenSigningKeyEvents.activated, row: next, state: 'CURRENT' });
    } else {
      steps.push(await this.create(transaction, 'CURRENT', algorithm, now));
    }
    steps.push(await this.create(transaction, 'NEXT', algorithm, now));
    return steps;
  }

  private async create(
    transaction: EntityManager,
    state: 'NEXT' | 'CURRENT',
    algorithm: TokenSigningAlgorithm,
    now: Date,
  ): Promise<Step> {
    const generated = await generateSigningKey(algorithm);
    let wrappedPrivateJwk: Buffer;
    try {
      wrappedPrivateJwk = await this.root.wrap(
        generated.privateJwk,
        tokenSigningKeyBinding(generated.kid),
      );
    } finally {
      generated.privateJwk.fill(0);
    }
    const row = { kid: generated.kid, algorithm };
    await this.keys.insert(
      transaction,
      {
        ...row,
        state,
        publicJwk: generated.publicJwk,
        wrappedPrivateJwk,
        wrappedBy: this.root.id,
      },
      now,
    );
    return { definition: TokenSigningKeyEvents.created, row, state };
  }

  private async record(
    transaction: EntityManager,
    steps: readonly Step[],
    trigger: Trigger,
    caller?: string,
  ): Promise<void> {
    await this.outbox.writeMany(
      transaction,
      steps.map(({ definition, row, state }) => ({
        definition,
        subject: row.kid,
        data: {
          kid: row.kid,
          algorithm: row.algorithm,
          state,
          trigger,
          ...(caller ? { caller } : {}),
        },
      })),
    );
  }

  /** The caller's public encryption key from the trust folder, read once. */
  private async recipient(caller: string): Promise<WorkloadEncryptionKey> {
    const known = this.recipients.get(caller);
    if (known) return known;
    const key = await loadWorkloadEncryptionKey(this.config.WORKLOAD_TRUST_DIR, caller);
    if (!key) throw noEncryptionKey(caller);
    this.recipients.set(caller, key);
    return key;
  }

  private async encryptFor(
    recipient: WorkloadEncryptionKey,
    row: WrappedTokenSigningKeyRow,
    wrapped: Buffer,
  ): Promise<string> {
    const material = await this.root.unwrap(wrapped, tokenSigningKeyBinding(row.kid));
    try {
      return await new CompactEncrypt(material)
        .setProtectedHeader({
          alg: WORKLOAD_ENCRYPTION_ALGORITHM,
          enc: WORKLOAD_CONTENT_ENCRYPTION,
          kid: recipient.kid,
          cty: 'jwk+json',
        })
        .encrypt(recipient.key);
    } finally {
      material.fill(0);
    }
  }
}

/** The published form of a key: its public members, kid, alg and use, nothing else. */
function publicJwk(row: TokenSigningKeyRow): JwkSet['keys'][number] {
  const jwk: JWK = {};
  for (const member of PUBLIC_JWK_MEMBERS)
    if (row.public_jwk[member]) jwk[member] = row.public_jwk[member];
  return {
    ...jwk,
    kty: jwk.kty as 'EC' | 'OKP' | 'RSA',
    kid: row.kid,
    alg: row.algorithm,
    use: 'sig',
  };
}
