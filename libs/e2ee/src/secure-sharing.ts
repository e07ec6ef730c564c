import { type SharingClient } from './client.js';
import { fromBase64, toBase64 } from './encoding.js';
import { open, seal } from './envelope.js';
import { E2eeError } from './errors.js';
import { unwrap, wrapFor } from './wrap.js';
import { fingerprint, type WrapKeyPair } from './wrap-keys.js';
import type { WebCryptoKey } from './web-crypto.js';

/** Public keys the caller has verified out of band: user -> expected fingerprint. */
export type PinnedFingerprints = ReadonlyMap<string, string>;

/**
 * The whole flow for one signed-in user: encrypt on this device, share by wrapping the data key to
 * a recipient's public key, revoke by re-encrypting under a new data key. The server only ever
 * receives ciphertext and JWEs.
 */
export class SecureSharing {
  constructor(
    private readonly client: SharingClient,
    private readonly me: { user: string; keys: WrapKeyPair },
    /** When a recipient is pinned here, their key must have this fingerprint (see ADR 0013). */
    private readonly pinned: PinnedFingerprints = new Map(),
  ) {}

  /** Publishes this device's public WRAP key (replacing an older one). */
  async register(): Promise<void> {
    await this.client.registerWrapKey(this.me.keys.publicJwk);
  }

  /** Encrypts `plaintext` as a new object readable by this user and `recipients`. */
  async create(
    plaintext: Uint8Array<ArrayBuffer>,
    recipients: string[] = [],
  ): Promise<{ id: string; version: number }> {
    const id = crypto.randomUUID();
    const { ciphertext, dataKey } = await seal(plaintext, id);
    const wrappedKeys = await this.wrapForAll(dataKey, [this.me.user, ...recipients]);
    const created = await this.client.createObject({
      id,
      ciphertext: toBase64(ciphertext),
      wrappedKeys,
    });
    return { id, version: created.version };
  }

  async read(id: string): Promise<Uint8Array<ArrayBuffer>> {
    const object = await this.client.getObject(id);
    const dataKey = await unwrap(object.wrappedKey.jwe, this.me.keys.privateKey, {
      extractable: false,
    });
    return open(fromBase64(object.ciphertext), id, dataKey);
  }

  /** Gives `recipient` the current data key, wrapped to their registered public key. */
  async share(id: string, recipient: string): Promise<void> {
    const object = await this.client.getObject(id);
    const dataKey = await unwrap(object.wrappedKey.jwe, this.me.keys.privateKey);
    const [wrapped] = await this.wrapForAll(dataKey, [recipient]);
    await this.client.share(id, { version: object.version, ...wrapped! });
  }

  /**
   * Takes `recipient` off the object: the content is re-encrypted under a new data key wrapped
   * for everyone else, so the key the recipient may have kept no longer opens it. (What they
   * already read, they may have copied: revocation protects future versions only.)
   */
  async revoke(id: string, recipient: string): Promise<{ version: number }> {
    const object = await this.client.getObject(id);
    const oldKey = await unwrap(object.wrappedKey.jwe, this.me.keys.privateKey, {
      extractable: false,
    });
    const plaintext = await open(fromBase64(object.ciphertext), id, oldKey);
    try {
      const { ciphertext, dataKey } = await seal(plaintext, id);
      const remaining = (object.recipients ?? [this.me.user]).filter((user) => user !== recipient);
      const revoked = await this.client.revoke(id, {
        version: object.version,
        recipient,
        ciphertext: toBase64(ciphertext),
        wrappedKeys: await this.wrapForAll(dataKey, remaining),
      });
      return { version: revoked.version };
    } finally {
      plaintext.fill(0);
    }
  }

  private async wrapForAll(dataKey: WebCryptoKey, users: string[]) {
    return Promise.all(
      [...new Set(users)].map(async (user) => {
        const publicJwk =
          user === this.me.user
            ? this.me.keys.publicJwk
            : (await this.client.getWrapKey(user)).publicJwk;
        // Computed here, never taken from the server's answer: that is the point of pinning.
        const actual = await fingerprint(publicJwk);
        const expected = this.pinned.get(user);
        if (expected !== undefined && expected !== actual) {
          throw new E2eeError(
            'fingerprint-mismatch',
            `The WRAP key the server gave for ${user} is not the one verified for them.`,
          );
        }
        return { recipient: user, jwe: await wrapFor(dataKey, publicJwk, actual) };
      }),
    );
  }
}
