import type { PublicWrapJwk } from './wrap-keys.js';

/** A user's registered WRAP key, as the server returns it. */
export interface WrapKeyView {
  user: string;
  publicJwk: PublicWrapJwk;
  fingerprint: string;
  updateTime: string;
}

export interface WrappedKey {
  recipient: string;
  /** Compact JWE (ECDH-ES+A256KW, A256GCM) holding the data key for this recipient. */
  jwe: string;
}

/** A shared object as one caller sees it: the ciphertext and only the caller's own wrapped key. */
export interface SharedObjectView {
  id: string;
  owner: string;
  /** Goes up by one on each revocation (each new data key); share and revoke name the one they saw. */
  version: number;
  /** base64 */
  ciphertext: string;
  wrappedKey: WrappedKey;
  /** Everyone holding a wrapped key, the owner included; only the owner sees it. */
  recipients?: string[];
  updateTime: string;
}

/** An RFC 9457 problem the server answered with. */
export class SharingApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problem: Record<string, unknown>,
  ) {
    super(typeof problem['detail'] === 'string' ? problem['detail'] : `HTTP ${status} ${code}`);
    this.name = 'SharingApiError';
  }
}

export interface SharingClientOptions {
  /** The key-management service (or the gateway in front of it), e.g. `https://rampart.example`. */
  baseUrl: string;
  /** An identity access token with the `kms.share` scope, or a function that returns a fresh one. */
  accessToken: string | (() => Promise<string>);
  fetch?: typeof fetch;
}

/**
 * The sharing API over HTTP, one method per route. It moves only ciphertext, public keys and
 * wrapped keys: nothing here ever sees a plaintext or a data key.
 */
export class SharingClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: SharingClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  registerWrapKey(publicJwk: PublicWrapJwk): Promise<WrapKeyView> {
    return this.call('POST', '/kms/v1/wrapKeys', { publicJwk });
  }

  getWrapKey(user: string): Promise<WrapKeyView> {
    return this.call('GET', `/kms/v1/wrapKeys/${encodeURIComponent(user)}`);
  }

  createObject(input: {
    id: string;
    ciphertext: string;
    wrappedKeys: WrappedKey[];
  }): Promise<SharedObjectView> {
    return this.call('POST', '/kms/v1/sharedObjects', input);
  }

  getObject(id: string): Promise<SharedObjectView> {
    return this.call('GET', `/kms/v1/sharedObjects/${encodeURIComponent(id)}`);
  }

  share(id: string, input: { version: number } & WrappedKey): Promise<SharedObjectView> {
    return this.call('POST', `/kms/v1/sharedObjects/${encodeURIComponent(id)}:share`, input);
  }

  revoke(
    id: string,
    input: { version: number; recipient: string; ciphertext: string; wrappedKeys: WrappedKey[] },
  ): Promise<SharedObjectView> {
    return this.call('POST', `/kms/v1/sharedObjects/${encodeURIComponent(id)}:revoke`, input);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const token =
      typeof this.options.accessToken === 'string'
        ? this.options.accessToken
        : await this.options.accessToken();
    const response = await this.fetch(new URL(path, this.options.baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const code = typeof payload['code'] === 'string' ? payload['code'] : 'unknown';
      throw new SharingApiError(response.status, code, payload);
    }
    return payload as T;
  }
}
