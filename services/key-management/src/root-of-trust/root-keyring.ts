import { RootKey } from './root-key.js';

/** No configured root key unwraps a value: it was altered, bound elsewhere, or its root is gone. */
export class RootUnwrapError extends Error {
  constructor(detail: string) {
    super(`No configured root key unwraps this value: ${detail}`);
    this.name = 'RootUnwrapError';
  }
}

/**
 * The root key the service wraps with, plus the previous roots it still unwraps with during a
 * root rotation. This is what the `RootKey` injection token provides: callers wrap and unwrap
 * without knowing whether a rotation is under way.
 */
export class RootKeyring extends RootKey {
  private readonly byId = new Map<string, RootKey>();

  constructor(
    readonly current: RootKey,
    readonly previous: readonly RootKey[] = [],
  ) {
    super();
    for (const key of [current, ...previous]) {
      // The same key given twice (as current and previous) would only make unwrapping slower.
      if (!this.byId.has(key.id)) this.byId.set(key.id, key);
    }
  }

  get id(): string {
    return this.current.id;
  }

  /** Every root this service can unwrap with, current first. */
  get ids(): string[] {
    return [...this.byId.keys()];
  }

  wrap(material: Buffer, binding: string): Promise<Buffer> {
    return this.current.wrap(material, binding);
  }

  /**
   * Tries the current root, then the previous ones. GCM's tag makes a wrong key fail rather than
   * return garbage, so trying costs time only; it happens on a cache miss, and during rotation.
   */
  async unwrap(wrapped: Buffer, binding: string): Promise<Buffer> {
    for (const key of this.byId.values()) {
      try {
        return await key.unwrap(wrapped, binding);
      } catch {
        // Not this root: try the next.
      }
    }
    throw new RootUnwrapError(`tried ${this.byId.size} root key(s)`);
  }

  /** Unwraps with the root recorded beside the value; unknown roots are named, not guessed. */
  async unwrapFrom(wrappedBy: string | null, wrapped: Buffer, binding: string): Promise<Buffer> {
    if (wrappedBy === null) return this.unwrap(wrapped, binding);
    const key = this.byId.get(wrappedBy);
    if (!key) {
      throw new RootUnwrapError(
        `it was wrapped by root ${wrappedBy}, which is not configured (KMS_PREVIOUS_ROOT_KEY_FILES or KMS_PREVIOUS_PKCS11_KEY_LABELS)`,
      );
    }
    try {
      return await key.unwrap(wrapped, binding);
    } catch {
      throw new RootUnwrapError(`root ${wrappedBy} refused it (altered, or bound elsewhere)`);
    }
  }

  override async close(): Promise<void> {
    // Every key opened, including one configured twice (kept once in byId).
    await Promise.allSettled([this.current, ...this.previous].map((key) => key.close()));
  }
}
