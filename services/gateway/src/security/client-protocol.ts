import { TrustedProxies, unmappedAddress } from './trusted-proxies.js';

/** What the decision reads of a request (any Fastify request, HTTP/1 or HTTP/2). */
interface IncomingRequest {
  readonly protocol: string;
  readonly socket: { readonly remoteAddress?: string | undefined } | null;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Decides whether a request reached us over TLS: the gateway's own TLS (`request.protocol`, which
 * with `trustProxy: false` reflects only the socket), or `X-Forwarded-Proto: https` from a peer in
 * GATEWAY_TRUSTED_PROXIES. HSTS and the protocol forwarded to services follow this answer.
 */
export class ClientProtocol {
  private readonly trusted: TrustedProxies;
  /**
   * Decided once per request, at `onRequest`: by the time a proxied POST's body has been read the
   * request may have let go of its socket, and the peer address with it.
   */
  private readonly decided = new WeakMap<object, 'http' | 'https'>();

  constructor(trustedProxies: readonly string[]) {
    this.trusted = new TrustedProxies(trustedProxies);
  }

  of(request: IncomingRequest): 'http' | 'https' {
    let protocol = this.decided.get(request);
    if (!protocol) {
      protocol = this.decide(request);
      this.decided.set(request, protocol);
    }
    return protocol;
  }

  private decide(request: IncomingRequest): 'http' | 'https' {
    if (request.protocol === 'https') return 'https';
    const remote = request.socket?.remoteAddress;
    if (!remote || !this.trusted.includes(unmappedAddress(remote))) return 'http';
    // The proxy nearest to us appends last; only its word counts.
    const claimed = request.headers['x-forwarded-proto'];
    const nearest = (Array.isArray(claimed) ? claimed.join(',') : (claimed ?? ''))
      .split(',')
      .pop()
      ?.trim()
      .toLowerCase();
    return nearest === 'https' ? 'https' : 'http';
  }
}
