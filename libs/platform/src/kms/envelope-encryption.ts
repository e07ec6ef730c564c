import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  DATA_PROTECTION,
  type DataCategory,
  type DataKeyCacheBounds,
  type ProtectionRequirements,
} from '@rampart/contracts';
import { RampartError } from '../errors/rampart-error.js';
import { BoundedKeyCache, DecryptionKey, EncryptionKey } from './data-key-cache.js';
import {
  canonicalContext,
  encodeContext,
  encodeHeader,
  IV_BYTES,
  MalformedEnvelopeError,
  parseEnvelope,
  TAG_BYTES,
  wrapAssociatedData,
  type EncryptionContext,
  type EnvelopeHeader,
} from './envelope-format.js';
import { KmsError, type DataKey, type DataSubject, type KmsClient } from './kms-client.js';

export interface EnvelopeEncryptionOptions {
  kms: KmsClient;
  /** The named KMS key for categories without per-subject keys, when `encrypt` names none. */
  defaultKey?: string;
  /**
   * Bounds tighter than the categories' (each figure is the smaller of the two); a client can
   * never loosen what `DATA_PROTECTION` allows.
   */
  bounds?: Partial<DataKeyCacheBounds>;
  /** Data keys kept for encryption at once (one per key, category and context in use). */
  maxEncryptionKeys?: number;
  /** Unwrapped data keys kept for decryption at once. */
  maxDecryptionKeys?: number;
  /** How often keys past their age are zeroed even if nobody asks for them again. */
  sweepIntervalMs?: number;
}

export interface EncryptOptions {
  category: DataCategory;
  /** Named KMS key; only for categories without per-subject keys. */
  key?: string;
  /** Required exactly for the categories with per-subject keys (personal, special-category). */
  subject?: DataSubject;
  /** Bound to the record: decryption needs the same pairs. Say what the record is, not secrets. */
  context?: EncryptionContext;
}

/**
 * The caller broke a data-category rule (personal data without a subject, a named key for
 * special-category data): a bug in the calling service, so it surfaces as a 500.
 */
export class DataCategoryRuleError extends Error {
  override readonly name = 'DataCategoryRuleError';
}

/** The KMS key a data key comes from; `id` is its part of the cache id. */
type Target =
  | { kind: 'named'; key: string; id: string }
  | { kind: 'subject'; subject: DataSubject; id: string };

/**
 * One answer for every decryption failure, local or at the KMS: which check failed (or whether
 * the data key was cached) is nothing a caller needs to learn.
 */
const decryptionFailed = () =>
  new RampartError(
    'decryption-failed',
    'The envelope could not be decrypted with this encryption context.',
  );

const DEFAULT_MAX_KEYS = 1_000;
const DEFAULT_SWEEP_MS = 5_000;

/**
 * Envelope encryption for services: records are sealed locally with AES-256-GCM under data keys
 * from the KMS (`:generateDataKey`, or per subject `subjects:generateDataKey`), and a data key is
 * reused within the category's bounds (age, records, bytes), like the AWS Encryption SDK's
 * caching materials manager. Decryption unwraps the data key through the KMS and keeps it for the
 * category's short decryption age. Keys leaving either cache are zeroed. See ADR 0014.
 */
export class EnvelopeEncryption {
  private readonly kms: KmsClient;
  private readonly encryptionKeys: BoundedKeyCache<EncryptionKey>;
  private readonly decryptionKeys: BoundedKeyCache<DecryptionKey>;
  /** Data keys being fetched, so that concurrent callers wait for one KMS call instead of each making one. */
  private readonly fetching = new Map<string, Promise<EncryptionKey>>();
  /** Fetches under way when their subject was forgotten: their keys are not cached. */
  private readonly abandoned = new WeakSet<Promise<EncryptionKey>>();
  private readonly unwrapping = new Map<string, Promise<DecryptionKey>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: EnvelopeEncryptionOptions) {
    this.kms = options.kms;
    this.encryptionKeys = new BoundedKeyCache(options.maxEncryptionKeys ?? DEFAULT_MAX_KEYS);
    this.decryptionKeys = new BoundedKeyCache(options.maxDecryptionKeys ?? DEFAULT_MAX_KEYS);
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? DEFAULT_SWEEP_MS);
    this.sweeper.unref();
  }

  /** Seals `record` into a self-describing envelope (see envelope-format.ts). */
  async encrypt(record: Buffer, options: EncryptOptions): Promise<Buffer> {
    const requirements = DATA_PROTECTION[options.category] as ProtectionRequirements | undefined;
    if (!requirements) throw new DataCategoryRuleError(`unknown data category ${options.category}`);
    const target = this.target(options, requirements);
    const pairs = canonicalContext(options.context ?? {});
    const bounds = this.bounds(requirements);
    // A record larger than a key may ever encrypt gets a key of its own, never cached.
    if (record.length > bounds.maxBytes) {
      const entry = await this.newEncryptionKey(options.category, target, pairs, bounds);
      try {
        return seal(entry, record);
      } finally {
        entry.zero();
      }
    }
    const id = JSON.stringify([target.id, options.category, pairs]);
    for (;;) {
      const entry =
        this.encryptionKeys.get(id) ??
        (await this.fetchEncryptionKey(id, () =>
          this.newEncryptionKey(options.category, target, pairs, bounds),
        ));
      if (entry.reserve(record.length, Date.now())) return seal(entry, record);
      // Used up, too old or evicted while we waited: retire it and fetch the next one.
      this.encryptionKeys.delete(id, entry);
    }
  }

  /** Opens an envelope; the context must be the one it was sealed with. */
  async decrypt(envelope: Buffer, context: EncryptionContext = {}): Promise<Buffer> {
    let parsed: ReturnType<typeof parseEnvelope>;
    try {
      parsed = parseEnvelope(envelope);
    } catch (error) {
      if (error instanceof MalformedEnvelopeError) throw decryptionFailed();
      throw error;
    }
    const requirements = DATA_PROTECTION[parsed.category] as ProtectionRequirements;
    // The header is authenticated, but only once the key is known: refuse a kind of key the
    // category never uses before asking the KMS for anything.
    if ((parsed.keyKind === 'subject') !== requirements.perSubjectKey) throw decryptionFailed();
    const encodedContext = encodeContext(canonicalContext(context));
    // Only needed when the data key is not cached.
    const wrapAad = () => wrapAssociatedData(parsed.category, encodedContext);
    const aad = Buffer.concat([parsed.header, encodedContext]);
    const maxAgeMs = this.bounds(requirements).decryptMaxAgeMs;
    const open = (key: Buffer) => {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv)
          .setAAD(aad)
          .setAuthTag(parsed.tag);
        return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
      } catch {
        throw decryptionFailed();
      }
    };
    if (maxAgeMs === 0) {
      const entry = await this.unwrap(parsed.keyName, parsed.wrappedKey, wrapAad(), 0);
      try {
        return open(entry.key);
      } finally {
        entry.zero();
      }
    }
    const id = parsed.wrappedKey.toString('base64');
    for (;;) {
      const entry = await this.cachedDecryptionKey(
        id,
        parsed.keyName,
        parsed.wrappedKey,
        wrapAad,
        maxAgeMs,
      );
      // The cache checked the age; a key just unwrapped for this call is used even if a very
      // short age has passed meanwhile. Opened synchronously after the check: a key zeroed
      // later was already copied into the cipher.
      if (!entry.retired) return open(entry.key);
      this.decryptionKeys.delete(id, entry);
    }
  }

  /**
   * Drops every cached key of the subject from this process, e.g. right after shredding it: the
   * data keys fetched for it, and unwrapped keys of its KMS key (`keyName`, when known, else the
   * names learnt while encrypting for it). Other processes keep what they unwrapped for at most
   * the category's `decryptMaxAgeMs`.
   */
  forgetSubject(subject: DataSubject, keyName?: string): void {
    const names = new Set<string>(keyName ? [keyName] : []);
    const target = subjectId(subject);
    // A data key being fetched right now must not land in the cache after this.
    for (const [id, fetch] of this.fetching) {
      if (id.startsWith(`[${JSON.stringify(target)},`)) {
        this.abandoned.add(fetch);
        this.fetching.delete(id);
      }
    }
    this.encryptionKeys.sweep((entry) => {
      if (entry.target !== target) return false;
      names.add(entry.keyName);
      return true;
    });
    this.decryptionKeys.sweep((entry) => names.has(entry.keyName));
  }

  /** Shreds the subject at the KMS and forgets its keys here. */
  async shredSubject(subject: DataSubject, options: { immediately?: boolean } = {}): Promise<void> {
    const { keyName } = await this.kms.shredSubject(subject, options);
    this.forgetSubject(subject, keyName);
  }

  /** Zeroes every cached key; the instance stays usable (it fetches keys again). */
  clear(): void {
    this.encryptionKeys.clear();
    this.decryptionKeys.clear();
  }

  /** Zeroes every cached key and stops the sweeper; the KMS client is the caller's to close. */
  close(): void {
    clearInterval(this.sweeper);
    this.clear();
  }

  private target(options: EncryptOptions, requirements: ProtectionRequirements): Target {
    if (requirements.perSubjectKey) {
      if (!options.subject?.tenant || !options.subject.subject)
        throw new DataCategoryRuleError(
          `${options.category} data needs a subject: it is encrypted under the subject's own key`,
        );
      if (options.key)
        throw new DataCategoryRuleError(
          `${options.category} data is encrypted under its subject's key, not a named key`,
        );
      return { kind: 'subject', subject: options.subject, id: subjectId(options.subject) };
    }
    if (options.subject)
      throw new DataCategoryRuleError(
        `${options.category} data has no subject; label data about a person personal`,
      );
    const key = options.key ?? this.options.defaultKey;
    if (!key) throw new DataCategoryRuleError(`no KMS key named for ${options.category} data`);
    return { kind: 'named', key, id: `key:${key}` };
  }

  private bounds(requirements: ProtectionRequirements): DataKeyCacheBounds {
    const own = this.options.bounds ?? {};
    const category = requirements.dataKeyCache;
    const tighter = (name: keyof DataKeyCacheBounds) =>
      Math.min(category[name], own[name] ?? Infinity);
    return {
      maxAgeMs: tighter('maxAgeMs'),
      maxMessages: tighter('maxMessages'),
      maxBytes: tighter('maxBytes'),
      decryptMaxAgeMs: tighter('decryptMaxAgeMs'),
    };
  }

  private fetchEncryptionKey(
    id: string,
    load: () => Promise<EncryptionKey>,
  ): Promise<EncryptionKey> {
    let pending = this.fetching.get(id);
    if (!pending) {
      const fetched: Promise<EncryptionKey> = load()
        .then((entry) => {
          // Not cached if its subject was forgotten meanwhile (a shred while fetching).
          if (!this.abandoned.has(fetched)) this.encryptionKeys.set(id, entry);
          return entry;
        })
        .finally(() => {
          if (this.fetching.get(id) === fetched) this.fetching.delete(id);
        });
      pending = fetched;
      this.fetching.set(id, pending);
    }
    return pending;
  }

  private async newEncryptionKey(
    category: DataCategory,
    target: Target,
    pairs: [string, string][],
    bounds: DataKeyCacheBounds,
  ): Promise<EncryptionKey> {
    const encodedContext = encodeContext(pairs);
    const wrapAad = wrapAssociatedData(category, encodedContext);
    const dataKey: DataKey =
      target.kind === 'subject'
        ? await this.kms.generateSubjectDataKey(target.subject, wrapAad)
        : await this.kms.generateDataKey(target.key, wrapAad);
    const header: EnvelopeHeader = {
      category,
      keyKind: target.kind,
      keyName: dataKey.keyName,
      keyVersion: dataKey.keyVersion,
      wrappedKey: dataKey.ciphertext,
    };
    const head = encodeHeader(header);
    return new EncryptionKey(
      dataKey.plaintext,
      Date.now(),
      bounds,
      head,
      Buffer.concat([head, encodedContext]),
      dataKey.keyName,
      target.id,
    );
  }

  /** Cached by the wrapped key alone: the record's tag still checks the caller's context. */
  private cachedDecryptionKey(
    id: string,
    keyName: string,
    wrappedKey: Buffer,
    wrapAad: () => Buffer,
    maxAgeMs: number,
  ): Promise<DecryptionKey> | DecryptionKey {
    const cached = this.decryptionKeys.get(id);
    if (cached?.usable(Date.now())) return cached;
    // In flight by wrapped key and context: a caller with the wrong context must not make a
    // concurrent caller with the right one fail.
    const associatedData = wrapAad();
    const flight = `${id}\n${associatedData.toString('base64')}`;
    let pending = this.unwrapping.get(flight);
    if (!pending) {
      pending = this.unwrap(keyName, wrappedKey, associatedData, maxAgeMs)
        .then((entry) => {
          this.decryptionKeys.set(id, entry);
          return entry;
        })
        .finally(() => this.unwrapping.delete(flight));
      this.unwrapping.set(flight, pending);
    }
    return pending;
  }

  private async unwrap(
    keyName: string,
    wrappedKey: Buffer,
    wrapAad: Buffer,
    maxAgeMs: number,
  ): Promise<DecryptionKey> {
    try {
      const { plaintext } = await this.kms.decrypt(keyName, wrappedKey, wrapAad);
      return new DecryptionKey(plaintext, Date.now(), maxAgeMs, keyName);
    } catch (error) {
      if (error instanceof KmsError && error.code === 'decryption-failed') throw decryptionFailed();
      throw error;
    }
  }

  private sweep(): void {
    const now = Date.now();
    this.encryptionKeys.sweep((entry) => now - entry.createdAt >= entry.bounds.maxAgeMs);
    this.decryptionKeys.sweep((entry) => !entry.usable(now));
  }
}

function subjectId(subject: DataSubject): string {
  return `subject:${JSON.stringify([subject.tenant, subject.subject])}`;
}

/** header | iv | ciphertext | tag, in one allocation. */
function seal(entry: EncryptionKey, record: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', entry.key, iv).setAAD(entry.aad);
  const headerEnd = entry.header.length;
  const out = Buffer.allocUnsafe(headerEnd + IV_BYTES + record.length + TAG_BYTES);
  entry.header.copy(out, 0);
  iv.copy(out, headerEnd);
  const body = cipher.update(record);
  body.copy(out, headerEnd + IV_BYTES);
  cipher.final();
  cipher.getAuthTag().copy(out, headerEnd + IV_BYTES + body.length);
  return out;
}
