import {
  compactDecrypt,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import {
  PUBLIC_JWK_MEMBERS,
  tokenSigningKeysResponse,
  type JwkSet,
  type TokenSigningAlgorithm,
  type TokenSigningKeysResponse,
} from '@rampart/contracts';
import {
  loadWorkloadDecryptionKey,
  WORKLOAD_CONTENT_ENCRYPTION,
  WORKLOAD_ENCRYPTION_ALGORITHM,
  type WorkloadEncryptionKey,
} from '../workload/workload-encryption.js';
import { WORKLOAD_ASSERTION_HEADER, type WorkloadSigner } from '../workload/workload-identity.js';

export const TOKEN_SIGNING_KEYS_PATH = '/kms/v1/tokenSigningKeys';

/** A key identity signs with: put `kid` and `alg` in the JWS header. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: TokenSigningAlgorithm;
  readonly key: CryptoKey;
}

export interface TokenSigningKeysOptions {
  /** Base URL of key-management (directly, or the gateway). */
  kmsUrl: string;
  /** The calling service's workload signer: key-management serves these keys to identity only. */
  signer: WorkloadSigner;
  /** The caller's private encryption key file (`<service>.enc.jwk`, mode 0600). */
  encryptionKeyFile: string;
  /** How often the keys are fetched again; a rotation is picked up within this. Default 60 s. */
  refreshIntervalMs?: number;
  /**
   * Past this long without a successful fetch, `current()` throws rather than sign with a key that
   * may have been rotated out and retired meanwhile. Default 1 h (far below the grace period).
   */
  maxStaleMs?: number;
  /** Told about a failed background refresh (the last keys stay in use until they are stale). */
  onRefreshError?: (error: unknown) => void;
  /**
   * Keep the decrypted private JWKs for `privateJwks()`. Only for a signer that must be handed
   * JWKs (oidc-provider builds its keystore from them); by default only non-extractable CryptoKeys
   * are kept (ADR 0017).
   */
  retainPrivateJwks?: boolean;
  /** Called after a refresh that changed the published set or the current key. */
  onKeysChanged?: () => void;
}

export class TokenSigningKeysError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenSigningKeysError';
  }
}

interface Snapshot {
  current: SigningKey;
  next: SigningKey | undefined;
  jwks: JwkSet;
  fetchedAt: number;
}

/** A delivered private JWK, kept only with `retainPrivateJwks`. */
export type PrivateSigningJwk = JWK & { kid: string; alg: TokenSigningAlgorithm };

/**
 * Identity's side of the token-signing keys: fetches them from key-management with a workload
 * assertion, decrypts each private JWK (a JWE to this service's own encryption key) and keeps the
 * result as non-extractable CryptoKeys, refreshing in the background. The private keys exist
 * unwrapped only inside this process.
 */
export class TokenSigningKeys {
  private snapshot: Snapshot | undefined;
  /** Decrypted keys by kid: a key's material never changes, only its state. */
  private readonly imported = new Map<string, SigningKey>();
  private readonly retainedJwks = new Map<string, PrivateSigningJwk>();
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshIntervalMs: number;
  private readonly maxStaleMs: number;

  private constructor(
    private readonly options: TokenSigningKeysOptions,
    private readonly decryptionKey: WorkloadEncryptionKey,
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.maxStaleMs = options.maxStaleMs ?? 60 * 60 * 1_000;
  }

  /** Loads the encryption key, fetches the keys once (throwing if that fails), then refreshes. */
  static async start(options: TokenSigningKeysOptions): Promise<TokenSigningKeys> {
    const keys = new TokenSigningKeys(
      options,
      await loadWorkloadDecryptionKey(options.encryptionKeyFile),
    );
    await keys.refresh();
    keys.schedule();
    return keys;
  }

  /** The key to sign with now. */
  current(): SigningKey {
    return this.fresh().current;
  }

  /** The key that becomes current at the next rotation (already published). */
  next(): SigningKey | undefined {
    return this.fresh().next;
  }

  /** The public JWK Set (NEXT, CURRENT and PREVIOUS), as identity's `jwks_uri` serves it. */
  jwks(): JwkSet {
    return this.fresh().jwks;
  }

  /**
   * The private JWKs of CURRENT then NEXT (CURRENT first: a keystore that picks the first matching
   * key signs with it). Needs `retainPrivateJwks`.
   */
  privateJwks(): PrivateSigningJwk[] {
    if (!this.options.retainPrivateJwks)
      throw new TokenSigningKeysError('private JWKs are kept only with retainPrivateJwks');
    const { current, next } = this.fresh();
    return [current, next].flatMap((key) => {
      const jwk = key && this.retainedJwks.get(key.kid);
      return jwk ? [jwk] : [];
    });
  }

  /** A compact JWS of `payload` with the current key; the caller sets the claims it needs. */
  async sign(payload: JWTPayload, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
    const { kid, alg, key } = this.current();
    return new SignJWT(payload).setProtectedHeader({ ...header, alg, kid }).sign(key);
  }

  /** Fetches the keys now (a rotation just announced by event, or at start). */
  async refresh(): Promise<void> {
    const response = await this.fetchKeys();
    const current = response.keys.find((key) => key.state === 'CURRENT');
    if (!current) throw new TokenSigningKeysError('key-management returned no CURRENT key');
    const next = response.keys.find((key) => key.state === 'NEXT');
    const live = new Set(response.keys.map((key) => key.kid));
    for (const kid of this.imported.keys()) if (!live.has(kid)) this.imported.delete(kid);
    for (const kid of this.retainedJwks.keys()) if (!live.has(kid)) this.retainedJwks.delete(kid);
    const before = this.snapshot;
    this.snapshot = {
      current: await this.privateKey(current),
      next: next ? await this.privateKey(next) : undefined,
      jwks: { keys: response.keys.map((key) => key.publicJwk) },
      fetchedAt: Date.now(),
    };
    const after = this.snapshot;
    const changed =
      before !== undefined &&
      (before.current.kid !== after.current.kid ||
        before.next?.kid !== after.next?.kid ||
        before.jwks.keys.map((key) => key.kid).join() !== after.jwks.keys.map((k) => k.kid).join());
    if (changed) this.options.onKeysChanged?.();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fresh(): Snapshot {
    const snapshot = this.snapshot;
    if (!snapshot || Date.now() - snapshot.fetchedAt > this.maxStaleMs) {
      throw new TokenSigningKeysError(
        'token-signing keys are stale: key-management has not been reached for too long',
      );
    }
    return snapshot;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((error: unknown) => this.options.onRefreshError?.(error))
        .finally(() => {
          if (this.timer) this.schedule();
        });
    }, this.refreshIntervalMs);
    // Background work must not keep the process alive.
    this.timer.unref();
  }

  private async fetchKeys(): Promise<TokenSigningKeysResponse> {
    const assertion = await this.options.signer.assertionFor('key-management');
    let response: Response;
    try {
      response = await fetch(new URL(TOKEN_SIGNING_KEYS_PATH, this.options.kmsUrl), {
        headers: { [WORKLOAD_ASSERTION_HEADER]: assertion, accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new TokenSigningKeysError('key-management could not be reached', { cause: error });
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const detail = (body as { detail?: unknown } | undefined)?.detail;
      throw new TokenSigningKeysError(
        `key-management answered ${response.status}${typeof detail === 'string' ? `: ${detail}` : ''}`,
      );
    }
    const parsed = tokenSigningKeysResponse.safeParse(body);
    if (!parsed.success)
      throw new TokenSigningKeysError('key-management answered an unexpected body');
    return parsed.data;
  }

  private async privateKey(
    delivered: TokenSigningKeysResponse['keys'][number],
  ): Promise<SigningKey> {
    const known = this.imported.get(delivered.kid);
    if (known) return known;
    if (!delivered.privateJwk)
      throw new TokenSigningKeysError(`key ${delivered.kid} came without its private key`);
    let jwk: JWK;
    try {
      const { plaintext, protectedHeader } = await compactDecrypt(
        delivered.privateJwk,
        this.decryptionKey.key,
        {
          keyManagementAlgorithms: [WORKLOAD_ENCRYPTION_ALGORITHM],
          contentEncryptionAlgorithms: [WORKLOAD_CONTENT_ENCRYPTION],
        },
      );
      if (protectedHeader.kid !== this.decryptionKey.kid) throw new Error('another recipient');
      jwk = JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
      plaintext.fill(0);
    } catch (error) {
      throw new TokenSigningKeysError(`the private key of ${delivered.kid} does not decrypt`, {
        cause: error,
      });
    }
    // The encrypted JWK must be the private half of the key published under this kid, so a
    // response cannot make identity sign with a key relying parties would not find.
    if (
      jwk.kid !== delivered.kid ||
      jwk.alg !== delivered.algorithm ||
      PUBLIC_JWK_MEMBERS.some((member) => jwk[member] !== delivered.publicJwk[member])
    ) {
      throw new TokenSigningKeysError(`the private key of ${delivered.kid} does not match its kid`);
    }
    const key = (await importJWK(jwk, delivered.algorithm, { extractable: false })) as CryptoKey;
    if (this.options.retainPrivateJwks) {
      this.retainedJwks.set(delivered.kid, {
        ...jwk,
        kid: delivered.kid,
        alg: delivered.algorithm,
      });
    }
    const signing = { kid: delivered.kid, alg: delivered.algorithm, key };
    this.imported.set(delivered.kid, signing);
    return signing;
  }
}
