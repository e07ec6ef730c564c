import { BlockList, isIPv4 } from 'node:net';

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
  private readonly trusted = new BlockList();
  /**
   * Decided once per request, at `onRequest`: by the time a proxied POST's body has been read the
   * request may have let go of its socket, and the peer address with it.
   */
  private readonly decided = new WeakMap<object, 'http' | 'https'>();

  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address = '', prefix] = entry.split('/');
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(prefix), family);
    }
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
    const peer = unmapped(request.socket?.remoteAddress);
    if (!peer || !this.trusted.check(peer, isIPv4(peer) ? 'ipv4' : 'ipv6')) return 'http';
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

/** A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`. */
function unmapped(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
