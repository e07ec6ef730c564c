import { randomBytes } from 'node:crypto';
import type { Handle, Mechanism, PKCS11 } from 'pkcs11js';
import {
  FINGERPRINT_AAD,
  FINGERPRINT_BLOCK,
  FINGERPRINT_IV,
  fingerprintFrom,
  IV_BYTES,
  ROOT_KEY_BYTES,
  RootKey,
  TAG_BYTES,
} from './root-key.js';

type Pkcs11js = typeof import('pkcs11js');

export interface Pkcs11RootKeyOptions {
  /** Path of the token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  library: string;
  /** The token: by slot id, or by label (slot ids may change when tokens are added). */
  slot?: number;
  tokenLabel?: string;
  pin: string;
  /** CKA_LABEL of the AES-256 secret key object. */
  keyLabel: string;
}

/** Sessions per key: one operation runs per session at a time, so this bounds parallel calls. */
const SESSIONS = 4;

/**
 * One loaded, initialised library per path for the whole process: C_Initialize may run once per
 * library, and several root keys (current and previous) may live on the same token.
 */
class LoadedLibrary {
  private static readonly open = new Map<string, { library: LoadedLibrary; users: number }>();

  private constructor(
    readonly api: Pkcs11js,
    readonly pkcs11: PKCS11,
    /** False when another part of the process initialised the library: it finalises it too. */
    private readonly initialisedHere: boolean,
  ) {}

  static async acquire(path: string): Promise<LoadedLibrary> {
    const existing = LoadedLibrary.open.get(path);
    if (existing) {
      existing.users += 1;
      return existing.library;
    }
    // Loaded only when a token is configured: a file root key needs no native module, and the
    // module is an optional dependency (its native build may be skipped where no compiler is).
    const api = (
      await import('pkcs11js').catch((error: unknown) => {
        throw new Error(
          `PKCS#11 needs the pkcs11js module, which is not installed or did not build (${(error as Error).message}); install g++, make and python3 and run npm ci again`,
        );
      })
    ).default;
    const pkcs11 = new api.PKCS11();
    try {
      pkcs11.load(path);
    } catch (error) {
      throw new Error(`PKCS#11: could not load ${path}: ${(error as Error).message}`);
    }
    let initialisedHere = true;
    try {
      // Async calls run on libuv's worker threads: the library must lock for itself.
      pkcs11.C_Initialize({ flags: api.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (pkcs11Code(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        pkcs11.close();
        throw failure(error, `initialise ${path}`);
      }
      initialisedHere = false;
    }
    const library = new LoadedLibrary(api, pkcs11, initialisedHere);
    LoadedLibrary.open.set(path, { library, users: 1 });
    return library;
  }

  static release(path: string): void {
    const entry = LoadedLibrary.open.get(path);
    if (!entry) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    LoadedLibrary.open.delete(path);
    // close() only unloads this handle on the library; finalising is its initialiser's business.
    if (entry.library.initialisedHere) entry.library.pkcs11.C_Finalize();
    entry.library.pkcs11.close();
  }
}

function pkcs11Code(error: unknown): string | undefined {
  return error instanceof Error ? /CKR_[A-Z_]+/.exec(error.message)?.[0] : undefined;
}

/**
 * A root key that never leaves a PKCS#11 token: an AES-256 secret key object, found by label,
 * that must be sensitive and non-extractable; AES-GCM runs inside the token. Calls run on libuv's
 * worker threads (the library's async functions), and unwrapped versions are cached by their
 * users, so the token stays off the request path after the first use of a version.
 */
export class Pkcs11RootKey extends RootKey {
  private readonly idle: Handle[] = [];
  private readonly waiting: { resolve: (session: Handle) => void; reject: (e: unknown) => void }[] =
    [];
  private sessions = 0;
  private closed = false;

  private constructor(
    readonly id: string,
    private readonly library: LoadedLibrary,
    private readonly options: Pkcs11RootKeyOptions,
    private readonly slot: Handle,
    /** Kept open for the key's lifetime: the token logs out when its application's last session closes. */
    private readonly anchor: Handle,
    private readonly key: Handle,
  ) {
    super();
  }

  static async open(options: Pkcs11RootKeyOptions): Promise<Pkcs11RootKey> {
    const library = await LoadedLibrary.acquire(options.library);
    const { api, pkcs11 } = library;
    let anchor: Handle | undefined;
    try {
      const slot = findSlot(library, options);
      anchor = pkcs11.C_OpenSession(slot, api.CKF_SERIAL_SESSION);
      try {
        pkcs11.C_Login(anchor, api.CKU_USER, options.pin);
      } catch (error) {
        // Login is per application and token: another root key on this token logged in already.
        if (pkcs11Code(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw failure(error, 'log in');
      }
      const key = findKey(library, anchor, options.keyLabel);
      // Once, at start, on the anchor session: no pool yet.
      pkcs11.C_EncryptInit(anchor, gcm(api, FINGERPRINT_IV, FINGERPRINT_AAD), key);
      const id = fingerprintFrom(
        pkcs11.C_Encrypt(
          anchor,
          FINGERPRINT_BLOCK,
          Buffer.alloc(FINGERPRINT_BLOCK.length + TAG_BYTES),
        ),
      );
      return new Pkcs11RootKey(id, library, options, slot, anchor, key);
    } catch (error) {
      try {
        if (anchor) pkcs11.C_CloseSession(anchor);
      } finally {
        // The reason the start failed matters more than a session that would not close.
        LoadedLibrary.release(options.library);
      }
      throw error;
    }
  }

  /** iv | tag | ciphertext, like the file root key. */
  async wrap(material: Buffer, binding: string): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const sealed = await this.encrypt(iv, Buffer.from(binding, 'utf8'), material);
    // The token appends the tag to the ciphertext.
    const tagAt = sealed.length - TAG_BYTES;
    return Buffer.concat([iv, sealed.subarray(tagAt), sealed.subarray(0, tagAt)]);
  }

  async unwrap(wrapped: Buffer, binding: string): Promise<Buffer> {
    if (wrapped.length < IV_BYTES + TAG_BYTES) throw new Error('wrapped value too short');
    const iv = wrapped.subarray(0, IV_BYTES);
    const tag = wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const sealed = Buffer.concat([wrapped.subarray(IV_BYTES + TAG_BYTES), tag]);
    return this.withSession(async (session) => {
      this.library.pkcs11.C_DecryptInit(
        session,
        gcm(this.library.api, iv, Buffer.from(binding, 'utf8')),
        this.key,
      );
      return this.library.pkcs11.C_DecryptAsync(session, sealed, Buffer.alloc(sealed.length));
    });
  }

  override close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('root key closed'));
    for (const session of [...this.idle.splice(0), this.anchor]) {
      try {
        this.library.pkcs11.C_CloseSession(session);
      } catch {
        // Finalising the library below closes whatever is left.
      }
    }
    LoadedLibrary.release(this.options.library);
    return Promise.resolve();
  }

  private encrypt(iv: Buffer, aad: Buffer, plaintext: Buffer): Promise<Buffer> {
    return this.withSession(async (session) => {
      this.library.pkcs11.C_EncryptInit(session, gcm(this.library.api, iv, aad), this.key);
      return this.library.pkcs11.C_EncryptAsync(
        session,
        plaintext,
        Buffer.alloc(plaintext.length + TAG_BYTES),
      );
    });
  }

  /**
   * Runs one operation on a pooled session. A session whose operation failed is closed rather
   * than reused: a failed call may leave its operation active.
   */
  private async withSession<T>(work: (session: Handle) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    let healthy = false;
    try {
      const result = await work(session);
      healthy = true;
      return result;
    } finally {
      this.release(session, healthy);
    }
  }

  private acquire(): Promise<Handle> {
    if (this.closed) return Promise.reject(new Error('root key closed'));
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.sessions < SESSIONS) {
      this.sessions += 1;
      try {
        return Promise.resolve(
          this.library.pkcs11.C_OpenSession(this.slot, this.library.api.CKF_SERIAL_SESSION),
        );
      } catch (error) {
        this.sessions -= 1;
        return Promise.reject(failure(error, 'open a session'));
      }
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(session: Handle, healthy: boolean): void {
    if (this.closed || !healthy) {
      this.sessions -= 1;
      try {
        this.library.pkcs11.C_CloseSession(session);
      } catch {
        // Already gone with the library.
      }
      const waiter = this.waiting.shift();
      if (waiter) this.acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(session);
    else this.idle.push(session);
  }
}

/** AES-GCM with PKCS#11 v2.40's CK_GCM_PARAMS (with ulIvBits), what SoftHSM2 and most HSMs take. */
function gcm(api: Pkcs11js, iv: Buffer, aad: Buffer): Mechanism {
  return {
    mechanism: api.CKM_AES_GCM,
    parameter: {
      type: api.CK_PARAMS_AES_GCM_v240,
      iv,
      ivBits: IV_BYTES * 8,
      aad,
      tagBits: TAG_BYTES * 8,
    } as Mechanism['parameter'],
  };
}

function failure(error: unknown, action: string): Error {
  return new Error(`PKCS#11: could not ${action}: ${pkcs11Code(error) ?? String(error)}`);
}

function slotId(slot: Handle): bigint {
  return slot.length >= 8 ? slot.readBigUInt64LE() : BigInt(slot.readUInt32LE());
}

function findSlot({ pkcs11 }: LoadedLibrary, options: Pkcs11RootKeyOptions): Handle {
  const slots = pkcs11.C_GetSlotList(true);
  const matches = slots.filter((slot) =>
    options.slot !== undefined
      ? slotId(slot) === BigInt(options.slot)
      : pkcs11.C_GetTokenInfo(slot).label.trim() === options.tokenLabel,
  );
  const wanted =
    options.slot !== undefined ? `slot ${options.slot}` : `token labelled "${options.tokenLabel}"`;
  if (matches.length === 0) throw new Error(`PKCS#11: no ${wanted} with a token present`);
  if (matches.length > 1) throw new Error(`PKCS#11: more than one ${wanted}`);
  return matches[0]!;
}

/**
 * The root key object by label, refused unless it is what a root key must be: AES, 256 bits,
 * sensitive and never extractable, so the key cannot leave the token, not even wrapped.
 */
function findKey({ api, pkcs11 }: LoadedLibrary, session: Handle, label: string): Handle {
  pkcs11.C_FindObjectsInit(session, [
    { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
    { type: api.CKA_LABEL, value: label },
  ]);
  let found: Handle[];
  try {
    found = pkcs11.C_FindObjects(session, 2);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
  if (found.length === 0) throw new Error(`PKCS#11: no secret key labelled "${label}"`);
  if (found.length > 1) throw new Error(`PKCS#11: more than one secret key labelled "${label}"`);
  const key = found[0]!;
  const [keyType, valueLength, sensitive, extractable] = pkcs11
    .C_GetAttributeValue(session, key, [
      { type: api.CKA_KEY_TYPE },
      { type: api.CKA_VALUE_LEN },
      { type: api.CKA_SENSITIVE },
      { type: api.CKA_EXTRACTABLE },
    ])
    .map((attribute) => attribute.value);
  const number = (value: Buffer | undefined) =>
    value?.length ? value.readUIntLE(0, Math.min(value.length, 6)) : -1;
  const flag = (value: Buffer | undefined) => value?.[0] === 1;
  const problems = [
    number(keyType) === api.CKK_AES ? undefined : 'not an AES key',
    number(valueLength) === ROOT_KEY_BYTES ? undefined : 'not 256 bits long',
    flag(sensitive) ? undefined : 'not sensitive (CKA_SENSITIVE)',
    flag(extractable) ? 'extractable (CKA_EXTRACTABLE)' : undefined,
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) {
    throw new Error(`PKCS#11: key "${label}" cannot be a root key: ${problems.join(', ')}`);
  }
  return key;
}
